"""Load test: office staff browsing lists, details and dashboards (benchmarks/load_test.sh).

Each simulated user logs in once as one of the demo accounts (the district officer, a street
officer, two community workers) and then opens pages as people do, with a pause of 1–3 s
between them. Every response must be 200; anything else counts as an error.
"""

import random
import re

from locust import HttpUser, between, task

ACCOUNTS = ["quwei", "jiedao", "shequ", "shequ2"]
PASSWORD = "Tz-demo-2026"  # the published demo password  # noqa: S105
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MEMBER_LINK = re.compile(r'href="/members/(\d+)/"')
ACTIVITY_LINK = re.compile(r'href="/activities/(\d+)/"')
PAGE_LINK = re.compile(r"\bpage=(\d+)")
# The member list as people filter it (the scenarios of benchmarks/member_list.py); "page" is a
# later page the list itself offered, as people reach one (a community may have only one page).
QUERIES = ["", "?category=06", "?q=王", "?age_min=40&age_max=60", "page", "?political_status=05"]


class OfficeUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.username = random.choice(ACCOUNTS)
        page = self.client.get("/login/", name="/login/")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/login/"},
            name="/login/ (POST)",
        )
        self.members, self.activities, self.last_page = [], [], 1

    def _page(self, url, name):
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            return response

    @task(3)
    def dashboard(self):
        self._page("/", "dashboard")

    @task(5)
    def member_list(self):
        query = random.choice(QUERIES)
        if query == "page":
            query = f"?page={random.randint(1, self.last_page)}"
        response = self._page(f"/members/{query}", "member list")
        self.members = MEMBER_LINK.findall(response.text)[:10] or self.members
        if not query:
            self.last_page = max(map(int, PAGE_LINK.findall(response.text)), default=1)

    @task(3)
    def member_detail(self):
        if self.members:
            member = random.choice(self.members)
            self._page(f"/members/{member}/", "member detail")
            # What the page's script then fetches into its list.
            self._page(f"/activities/members/{member}/timeline/", "member timeline")

    @task(3)
    def activity_list(self):
        response = self._page("/activities/", "activity list")
        self.activities = ACTIVITY_LINK.findall(response.text)[:10] or self.activities

    @task(2)
    def activity_detail(self):
        if self.activities:
            self._page(f"/activities/{random.choice(self.activities)}/", "activity detail")

    @task(1)
    def needs(self):
        self._page("/activities/needs/", "need list")

    @task(1)
    def visits(self):
        self._page("/activities/visits/", "visit list")
