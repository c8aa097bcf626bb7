"""The published platform contract (speakerd/stub/openapi.yaml): a valid OpenAPI 3.1 file the stub serves, and every
answer of the stub and of the device's inbound API checked against it with openapi-core."""

from __future__ import annotations

import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_spec_validator import validate

from speakerd.ports import free_port
from speakerd.stub.app import OPENAPI
from speakerd.stub.scenarios import office

from .conftest import fast_platform
from .helpers import claimed

SPEC = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def test_the_contract_is_valid_openapi_3_1_and_served_by_the_stub(stub):
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.1")
    served = requests.get(stub([]).url + "/openapi.yaml", timeout=5)
    assert served.status_code == 200 and yaml.safe_load(served.text) == SPEC


def checked(spec: OpenAPI, answer: requests.Response) -> requests.Response:
    """Raises unless the request and its answer are as the contract says."""
    request = RequestsOpenAPIRequest(answer.request)
    spec.validate_request(request)
    spec.validate_response(request, RequestsOpenAPIResponse(answer))
    return answer


def test_every_answer_of_the_stub_is_as_the_contract_says(stub):
    """The office mix without its deliberate faults (no id, no type, no content: they test the device's quarantine,
    not the contract the stub's answers must keep)."""
    server = stub([e for e in office(40, seed=11) if isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("id", "type", "content"))])
    spec = OpenAPI.from_dict({**SPEC, "servers": [{"url": server.url}]})
    auth = {"Authorization": "Bearer demo-token"}
    url = server.url + "/v1/messages"
    first = checked(spec, requests.get(url, params={"limit": 25}, headers=auth, timeout=5))
    assert len(first.json()["messages"]) == 25
    rest = checked(spec, requests.get(url, params={"after": first.json()["next"], "limit": 1000}, headers=auth, timeout=5))
    assert rest.json()["messages"] and rest.json()["next"] >= first.json()["next"]
    checked(spec, requests.get(url, params={"after": rest.json()["next"], "wait": 0}, headers=auth, timeout=5))
    assert checked(spec, requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5)).status_code == 401


def test_the_devices_inbound_answers_are_as_the_contract_says(stub, write_config, run_daemon):
    port = free_port()
    cfg = fast_platform(stub([]).url)
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}", "inbound_token": "in-token"}
    run_daemon(claimed(write_config(cfg)))
    spec = OpenAPI.from_dict({**SPEC, "paths": {"/v1/inbound": {k: v for k, v in SPEC["paths"]["/v1/inbound"].items() if k != "servers"}},
                              "servers": [{"url": f"http://127.0.0.1:{port}"}]})
    url, auth = f"http://127.0.0.1:{port}/v1/inbound", {"Authorization": "Bearer in-token"}
    one = {"id": "erp-1", "type": "order.paid", "content": "客户王五已支付订单777001", "data": {"amount": 88.0}}
    assert checked(spec, requests.post(url, json=one, headers=auth, timeout=5)).json()["stored"] == ["erp-1"]
    assert checked(spec, requests.post(url, json=[one, {**one, "id": "erp-2"}], headers=auth, timeout=5)).status_code == 200
    assert checked(spec, requests.post(url, json=one, headers={"Authorization": "Bearer no"}, timeout=5)).status_code == 401
