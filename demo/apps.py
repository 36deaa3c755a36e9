from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo district and its accounts (`seed_demo`).

    Above every other app: it fills them all, and nothing imports it.
    """

    name = "demo"
