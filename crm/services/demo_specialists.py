"""Demo specialist directory: clearly fictional doctors and cancer centres across the US."""

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Specialist
from crm.models.enums import SpecialistKind
from crm.services.specialists import SpecialistInput, create_specialist

# Codes, for short lines below.
_PS, _RS = "pleural_surgery", "peritoneal_surgery"
_TO, _MO = "thoracic_oncology", "medical_oncology"

# Doctors are "Dr. Imaginary <name>"; phones are the fictional (area) 555-01NN, NN the line number.
# name | d(octor) or c(entre) | specialties | organisation | city | state | ZIP | area code | VA
DIRECTORY = """\
Whitcombe|d|PS TO|Example Cancer Institute|Boston|MA|02114|617|y
Example Harbor Mesothelioma Center|c|PS RS TO MO|Example Harbor Hospital|Boston|MA|02115|617|y
Castellano|d|MO|Sample Ocean State Oncology|Providence|RI|02903|401|
Okonkwo|d|PS|Fictional Sound Thoracic Surgery|New Haven|CT|06510|203|y
Placeholder University Cancer Center|c|PS RS TO MO|Placeholder University|New York|NY|10016|212|
Feldman-Reyes|d|RS MO|Example Peritoneal Surface Program|New York|NY|10065|212|
Lindqvist|d|TO MO|Sample Schuylkill Cancer Care|Philadelphia|PA|19104|215|y
Barrowman|d|PS TO|Example Chesapeake Chest Institute|Baltimore|MD|21201|410|
Tidewater Example Cancer Institute|c|PS TO MO|Tidewater Example Health|Norfolk|VA|23510|757|y
Pemberton|d|MO|Fictional Piedmont Oncology|Durham|NC|27710|919|y
Adebayo|d|RS|Sample Lowcountry Surgical Oncology|Charleston|SC|29425|843|
Example Gulf Coast Cancer Center|c|PS RS TO MO|Example Gulf Coast Health|Tampa|FL|33612|813|y
Thibodeaux|d|TO MO|Placeholder Bayou Oncology|New Orleans|LA|70112|504|y
Example Bayou City Mesothelioma Center|c|PS RS TO MO|Example Bayou Health|Houston|TX|77030|713|y
Vasquez-Holloway|d|RS MO|Sample Alamo Surgical Oncology|San Antonio|TX|78229|210|
Kowalczyk|d|PS TO|Example Lakeshore Thoracic Institute|Chicago|IL|60611|312|y
Brightwater|d|MO|Fictional Great Lakes Cancer Care|Cleveland|OH|44195|216|
Sample Twin Rivers Cancer Center|c|PS TO MO|Sample Twin Rivers Health|Minneapolis|MN|55455|612|y
Delacroix|d|RS|Placeholder Gateway Surgical Oncology|St. Louis|MO|63110|314|
Nakashima|d|TO MO|Example Front Range Oncology|Aurora|CO|80045|303|y
Quillfeather|d|PS|Sample Wasatch Chest Surgery|Salt Lake City|UT|84112|801|
Example Desert Sun Cancer Institute|c|TO MO|Example Desert Sun Health|Phoenix|AZ|85006|602|y
Marchetti|d|PS TO|Fictional Pacific Thoracic Group|Los Angeles|CA|90095|310|y
Oyelaran|d|RS MO|Sample Bay Peritoneal Program|San Francisco|CA|94143|415|
Example Puget Sound Cancer Center|c|PS RS TO MO|Example Puget Sound Health|Seattle|WA|98195|206|y
"""
_CODES = {"PS": _PS, "RS": _RS, "TO": _TO, "MO": _MO}


def entries() -> list[SpecialistInput]:
    """The demo directory as service inputs."""
    result = []
    for number, line in enumerate(DIRECTORY.splitlines(), start=1):
        name, kind, codes, organisation, city, state, zip_code, area, va = line.split("|")
        doctor = kind == "d"
        result.append(
            SpecialistInput(
                name=f"Dr. Imaginary {name}" if doctor else name,
                kind=SpecialistKind.doctor if doctor else SpecialistKind.centre,
                specialties=[_CODES[code] for code in codes.split()],
                organisation=organisation,
                city=city,
                state=state,
                zip_code=zip_code,
                phone=f"({area}) 555-01{number:02d}",
                accepts_va=va == "y",
            )
        )
    return result


def seed_demo_specialists() -> int:
    """Add the demo directory unless there is one already; returns how many were added."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Specialist)):
        return 0
    for entry in entries():
        create_specialist(entry)
    return len(DIRECTORY.splitlines())
