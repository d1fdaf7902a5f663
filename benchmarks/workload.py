"""Reproducible CDS Hooks requests for an ICU patient after CAR-T (benchmark data only).

Vital signs are charted every 15 minutes (temperature, heart rate, BP panel, respiratory rate,
SpO2, oxygen device and flow, in rotation so that the Bundle holds exactly the asked number of
Observations), labs daily, with CAR-T, norepinephrine, tocilizumab and acetaminophen
administrations. The same arguments always give the same bytes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
BASE = "https://ehr.example.org/fhir"
TICK = timedelta(minutes=15)
# kind: (LOINC code, display, unit) - vitals, in charting rotation order
VITALS = (("temperature", "8310-5", "Body temperature", "Cel"),
          ("heart_rate", "8867-4", "Heart rate", "/min"),
          ("bp", "85354-9", "Blood pressure panel", "mm[Hg]"),
          ("respiratory_rate", "9279-1", "Respiratory rate", "/min"),
          ("spo2", "59408-5", "Oxygen saturation by pulse oximetry", "%"),
          ("device", "107117-4", "Oxygen delivery system", ""),
          ("flow", "3151-8", "Inhaled oxygen flow rate", "L/min"))
LABS = (("1988-5", "C reactive protein", "mg/L", 0, 5), ("2276-4", "Ferritin", "ng/mL", 30, 400),
        ("26881-3", "Interleukin 6", "pg/mL", 0, 7), ("777-3", "Platelets", "10*9/L", 150, 400),
        ("751-8", "Neutrophils", "10*9/L", 1.8, 7.7), ("718-7", "Hemoglobin", "g/dL", 12, 17),
        ("2160-0", "Creatinine", "mg/dL", 0.6, 1.2), ("1920-8", "AST", "U/L", 10, 40),
        ("1742-6", "ALT", "U/L", 7, 56), ("2532-0", "LDH", "U/L", 140, 280),
        ("3255-7", "Fibrinogen", "mg/dL", 200, 400), ("2571-8", "Triglycerides", "mg/dL", 0, 150))
DEVICES = (("336623009", "Oxygen nasal cannula"), ("426854004", "High flow oxygen nasal cannula"))


def iso(t: datetime) -> str:
    """Return a FHIR instant in UTC."""
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Chart:
    """Builds the resources of one patient."""

    def __init__(self, patient_id: str, now: datetime, days: int, seed: int) -> None:
        self.pid, self.now, self.days = patient_id, now, days
        self.rng = random.Random(seed)
        self.start = now - timedelta(days=days)
        self.infusion = now - timedelta(days=min(days, 28)) + timedelta(hours=2)
        self.onset = self.infusion + min(timedelta(hours=20), (now - self.infusion) / 4)
        self.serial = 0

    def _obs(self, code: str, display: str, category: str, t: datetime,
             value: dict[str, Any]) -> dict[str, Any]:
        self.serial += 1
        oid = f"{self.pid}-o{self.serial}"
        return {"fullUrl": f"{BASE}/Observation/{oid}", "search": {"mode": "match"},
                "resource": {
                    "resourceType": "Observation", "id": oid,
                    "meta": {"versionId": "1", "lastUpdated": iso(t + timedelta(minutes=2))},
                    "status": "final",
                    "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
                    "code": {"coding": [{"system": LOINC, "code": code, "display": display}],
                             "text": display},
                    "subject": {"reference": f"Patient/{self.pid}"},
                    "encounter": {"reference": f"Encounter/{self.pid}-icu"},
                    "effectiveDateTime": iso(t), "issued": iso(t + timedelta(minutes=1)),
                    **value}}

    def _qty(self, value: float, unit: str) -> dict[str, Any]:
        return {"value": value, "unit": unit, "system": UCUM, "code": unit}

    def _sick(self, t: datetime) -> bool:
        """Febrile phases of the CRS course: on for 18 h, off for 6 h after onset."""
        return t >= self.onset and ((t - self.onset) // timedelta(hours=1)) % 24 < 18

    def vital(self, kind: str, t: datetime) -> dict[str, Any]:
        """Return one vital-sign entry of a kind at a time."""
        _, code, display, unit = next(v for v in VITALS if v[0] == kind)
        sick, r = self._sick(t), self.rng
        if kind == "bp":
            sbp = r.randint(78, 92) if sick and r.random() < 0.4 else r.randint(100, 135)
            comps = [{"code": {"coding": [{"system": LOINC, "code": c, "display": d}]},
                      "valueQuantity": self._qty(v, unit)}
                     for c, d, v in (("8480-6", "Systolic blood pressure", sbp),
                                     ("8462-4", "Diastolic blood pressure", sbp - 35))]
            return self._obs(code, display, "vital-signs", t, {"component": comps})
        if kind == "device":
            dev = DEVICES[1] if sick else DEVICES[0]
            return self._obs(code, display, "vital-signs", t, {"valueCodeableConcept": {
                "coding": [{"system": SNOMED, "code": dev[0], "display": dev[1]}],
                "text": dev[1]}})
        value: float = {"temperature": round(r.uniform(38.3, 39.6) if sick else
                                             r.uniform(36.5, 37.6), 1),
                        "heart_rate": r.randint(95, 135) if sick else r.randint(65, 95),
                        "respiratory_rate": r.randint(18, 28) if sick else r.randint(12, 18),
                        "spo2": r.randint(89, 95) if sick else r.randint(95, 100),
                        "flow": r.choice((6, 8, 10)) if sick else r.choice((1, 2, 3))}[kind]
        return self._obs(code, display, "vital-signs", t, {"valueQuantity": self._qty(value, unit)})

    def lab(self, spec: tuple[str, str, str, float, float], t: datetime) -> dict[str, Any]:
        """Return one lab entry with its reference range."""
        code, display, unit, low, high = spec
        factor = self.rng.uniform(3, 20) if t >= self.onset and code in (
            "1988-5", "2276-4", "26881-3") else self.rng.uniform(0.8, 1.1)
        value = round(max(low, high * 0.6) * factor, 1)
        return self._obs(code, display, "laboratory", t, {
            "valueQuantity": self._qty(value, unit),
            "referenceRange": [{"low": self._qty(low, unit), "high": self._qty(high, unit)}]})

    def med(self, mid: str, rxcui: str, text: str, t: datetime, **extra: Any) -> dict[str, Any]:
        """Return one MedicationAdministration entry."""
        res: dict[str, Any] = {
            "resourceType": "MedicationAdministration", "id": f"{self.pid}-{mid}",
            "meta": {"versionId": "1", "lastUpdated": iso(t)}, "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui,
                                                      "display": text}], "text": text},
            "subject": {"reference": f"Patient/{self.pid}"}, "effectiveDateTime": iso(t),
            **extra}
        return {"fullUrl": f"{BASE}/MedicationAdministration/{res['id']}", "resource": res}

    def medications(self) -> list[dict[str, Any]]:
        """Return the CAR-T infusion, antipyretics, a running pressor and tocilizumab doses."""
        out = [self.med("cart", "1987402", "axicabtagene ciloleucel suspension for IV infusion",
                        self.infusion)]
        pressor_start = self.onset + (self.now - self.onset) / 2
        out.append(self.med("ne", "7512", "norepinephrine 4 mg in 250 mL infusion",
                            pressor_start, status="in-progress", effectiveDateTime=None,
                            effectivePeriod={"start": iso(pressor_start)},
                            dosage={"rateQuantity": self._qty(8, "ug/min")}))
        out[-1]["resource"].pop("effectiveDateTime")
        for k in range(2):
            t = self.onset + timedelta(hours=4 + 10 * k)
            if t < self.now:
                out.append(self.med(f"toci{k}", "1657979", "tocilizumab 400 mg IV", t,
                                    dosage={"dose": self._qty(560, "mg"),
                                            "route": {"text": "intravenous"}}))
        t = self.onset + timedelta(hours=1)
        out.append(self.med("apap", "161", "acetaminophen 1000 mg oral", t))
        return out


def patient_view(n_obs: int, days: int, *, now: datetime, patient: int = 0,
                 seed: int = 8) -> dict[str, Any]:
    """Return a patient-view request whose vitals, respiratory and labs hold ``n_obs``."""
    pid = f"bench-{patient}"
    chart = _Chart(pid, now, days, seed * 100_003 + patient)
    ticks = int(timedelta(days=days) / TICK)
    lab_times = [now - timedelta(days=d, hours=6) for d in range(days)]
    labs = [chart.lab(spec, t) for t in lab_times for spec in LABS][: n_obs // 8]
    quota = n_obs - len(labs)
    vitals: list[dict[str, Any]] = []
    respiratory: list[dict[str, Any]] = []
    kind = 0
    for tick in range(ticks):  # newest first, like a _sort=-date search
        due = (quota * (tick + 1)) // ticks - (quota * tick) // ticks
        t = now - TICK * tick - timedelta(minutes=1)
        for _ in range(due):
            name = VITALS[kind % len(VITALS)][0]
            kind += 1
            (respiratory if name in ("device", "flow") else vitals).append(chart.vital(name, t))
    return {"hook": "patient-view", "hookInstance": f"00000000-0000-4000-8000-{patient:012d}",
            "fhirServer": BASE, "context": {"userId": "Practitioner/icu-1", "patientId": pid},
            "prefetch": {
                "patient": {"resourceType": "Patient", "id": pid, "birthDate": "1961-05-02",
                            "gender": "female"},
                "vitals": _bundle(vitals), "respiratory": _bundle(respiratory),
                "labs": _bundle(labs), "medadmin": _bundle(chart.medications()),
                "medorders": None, "conditions": _bundle([])}}


def order_sign(n_obs: int, days: int, *, now: datetime, patient: int = 0,
               seed: int = 8) -> dict[str, Any]:
    """Return an order-sign request with a CAR-T draft order over the same chart."""
    body = patient_view(n_obs, days, now=now, patient=patient, seed=seed)
    pid = body["context"]["patientId"]
    body["hook"] = "order-sign"
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": f"{pid}-draft-cart",
                      "status": "draft", "intent": "order",
                      "medicationCodeableConcept": {"coding": [{
                          "system": RXNORM, "code": "1987402",
                          "display": "axicabtagene ciloleucel suspension for IV infusion"}]},
                      "subject": {"reference": f"Patient/{pid}"}, "authoredOn": iso(now)}}]}
    return body


def _bundle(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
            "entry": entries}


def observation_count(body: dict[str, Any]) -> int:
    """Return the Observations in a request's prefetch."""
    return sum(len((body["prefetch"].get(k) or {}).get("entry", []))
               for k in ("vitals", "respiratory", "labs"))


def encode(body: dict[str, Any]) -> bytes:
    """Return the request bytes."""
    return orjson.dumps(body)


def reopened(body: dict[str, Any], *, now: datetime, minutes: int = 15,
             seed: int = 9) -> dict[str, Any]:
    """Return the same chart opened again ``minutes`` later: one new tick of vitals on top.

    Every other resource is byte-for-byte the same; the oldest vitals drop out so the
    Bundles keep their size, as a ``_count``-limited search would return them.
    """
    pid = body["context"]["patientId"]
    chart = _Chart(f"{pid}", now, 1, seed)
    chart.serial = 10_000_000  # ids never met before
    fresh = orjson.loads(orjson.dumps(body))
    fresh["hookInstance"] = f"00000000-0000-4000-9000-{minutes:012d}"
    t = now - timedelta(minutes=1)
    for key, kinds in (("vitals", ("temperature", "heart_rate", "bp", "spo2")),
                       ("respiratory", ("flow",))):
        entries = fresh["prefetch"][key]["entry"]
        if entries:
            added = [chart.vital(kind, t) for kind in kinds]
            fresh["prefetch"][key]["entry"] = added + entries[:len(entries) - len(added)]
    return fresh
