"""One REMS CSV export for the API and the web pages: spreadsheet formulas are neutralised, exports audited."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import replace

from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.services.rems_forms import FORMULA_STARTS

from ..integration.api.conftest import Api

PAYLOADS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_the_export_neutralises_formulas_in_api_and_web(api: Api) -> None:
    form = api.get("nurse", "/rems/forms").json()[0]
    new_uow = unit_of_work_factory(Settings(database_url=api.database_url))
    with new_uow() as uow:  # a lot number / note typed by staff, stored as is
        record = uow.rems.get_form(uuid.UUID(form["id"]))
        names = ("lot_number", "patient_first_name", "patient_last_name", "hcp_first_name", "hcp_last_name",
                 "setting_name")  # fmt: skip
        changed = replace(record.form, **dict(zip(names, PAYLOADS, strict=True)))
        uow.rems.update_form(replace(record, form=changed), record.version, "test", "payload")
        uow.commit()
    new_uow.dispose()
    via_api = api.get("nurse", f"/rems/forms/{form['id']}/export").text
    api.client.cookies.set("kt_session", api.tokens["nurse"])  # the web pages' session cookie
    via_web = api.client.get(f"/rems/{form['id']}.csv").text
    assert via_api == via_web
    cells = [cell for row in csv.reader(io.StringIO(via_api)) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    log = api.get("admin", "/audit", params={"patient_id": form["patient_id"]}).json()["items"]
    assert sum(e["action"] == "export" and e["entity"] == "rems-form" for e in log) == 2
    assert re.match(r"field,label,value\r\n", via_api)
