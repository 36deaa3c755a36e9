from tongzhan.masking import mask_contact, mask_id_number, mask_phone


def test_id_number_keeps_area_code_and_last_four():
    assert mask_id_number("14010519800101123X") == "140105********123X"


def test_mobile_phone_keeps_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_landline_keeps_last_four():
    assert mask_phone("03511234567") == "035****4567"
    assert mask_phone("1234567") == "***4567"


def test_empty_values_stay_empty():
    assert mask_id_number("") == ""
    assert mask_phone("") == ""


def test_a_relatives_contact_is_masked_as_a_phone_or_as_text():
    assert mask_contact("138 1234 5678") == "138****5678"
    assert mask_contact("+886 912 345 678") == "886*****5678"
    assert mask_contact("wechat_lzm") == "w*******zm"
    assert mask_contact("lin@example.com") == "l************om"
    assert mask_contact("abc") == "***"
    assert mask_contact("") == ""
