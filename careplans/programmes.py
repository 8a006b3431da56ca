"""The region's disease-management programmes (forløbsprogrammer) as care-plan content: the goals,
activities and home measurements a plan for each chronic condition holds. Shared by the demo
data (``careplans.demo``) and the synthetic region (``careplans.generate``)."""

from __future__ import annotations

from dataclasses import dataclass

from .choices import ObservationCode, ThresholdCode

GP, MUNICIPALITY, HOSPITAL = "gp", "municipality", "hospital"
EVERY_DAY = "MO,TU,WE,TH,FR,SA,SU"


@dataclass(frozen=True)
class GoalSpec:
    description: str
    owner: str
    target_text: str = ""
    target: tuple[str, str, str, str] | None = None  # code, comparator, value, unit


@dataclass(frozen=True)
class ActivitySpec:
    description: str
    owner: str
    weekdays: str = ""
    weeks: int | None = None  # a course of this many weeks; None: open-ended
    due_in: tuple[int, int] = (14, 120)  # one-off: due this many days from today (negative: overdue)


@dataclass(frozen=True)
class Programme:
    """One disease-management programme (forløbsprogram): what a plan for the condition holds."""

    code: str
    title: str  # the plan's title when it is the citizen's only programme
    name: str  # in a combined title
    goals: tuple[GoalSpec, ...] = ()
    activities: tuple[ActivitySpec, ...] = ()
    measures: tuple[str, ...] = ()


BP_GOAL = GoalSpec("Blodtryk under 140/90 mmHg", GP, target=(ThresholdCode.SYSTOLIC, "<", "140", "mmHg"))
ANNUAL = ActivitySpec("Årskontrol hos egen læge", GP, due_in=(-6, 200))
HOME_BP = ActivitySpec("Blodtryksmåling i hjemmet", MUNICIPALITY, weekdays="MO,TH")

# In order of precedence: the first programme of a citizen names the plan first.
PROGRAMMES = [
    Programme(
        "J44",
        "KOL-forløb",
        "KOL",
        goals=(
            GoalSpec("Stabil iltmætning i hvile", GP, target=(ThresholdCode.SPO2, ">=", "90", "%")),
            GoalSpec(
                "Går 30 minutter om dagen efter rehabiliteringen",
                MUNICIPALITY,
                target_text="30 minutters gang dagligt",
            ),
        ),
        activities=(
            ActivitySpec("Årskontrol med spirometri", GP, due_in=(-4, 200)),
            ActivitySpec("KOL-rehabilitering (holdtræning)", MUNICIPALITY, weekdays="TU", weeks=12),
        ),
        measures=(ObservationCode.SPO2,),
    ),
    Programme(
        "I50",
        "Hjertesvigt – forløbsplan",
        "Hjertesvigt",
        goals=(
            GoalSpec("Stabil vægt uden væskeophobning", GP),  # the target weight is the citizen's own
            GoalSpec(
                "Kender tegn på forværring og melder vægtstigning",
                MUNICIPALITY,
                target_text="Vægtstigning over 2 kg på 3 dage meldes til lægen",
            ),
        ),
        activities=(
            ActivitySpec("Medicingennemgang og kontrol af nyretal", GP, due_in=(-3, 60)),
            ActivitySpec("Vægtkontrol og observation for væske i kroppen", MUNICIPALITY, weekdays="MO,WE,FR"),
        ),
        measures=(ObservationCode.BODY_WEIGHT, ObservationCode.BLOOD_PRESSURE),
    ),
    Programme(
        "E11",
        "Type 2-diabetes – forløbsplan",
        "Type 2-diabetes",
        goals=(
            GoalSpec("Velreguleret blodsukker", GP, target_text="HbA1c < 53 mmol/mol"),
            BP_GOAL,
        ),
        activities=(
            ActivitySpec("Kvartalskontrol med HbA1c", GP, due_in=(-5, 90)),
            ActivitySpec("Diabetesskole (patientuddannelse)", MUNICIPALITY, weekdays="TH", weeks=6),
            HOME_BP,
        ),
        measures=(ObservationCode.BLOOD_PRESSURE,),
    ),
    Programme(
        "I25",
        "Iskæmisk hjertesygdom – forløbsplan",
        "Iskæmisk hjertesygdom",
        goals=(
            BP_GOAL,
            GoalSpec("Gennemfører hjerterehabilitering", MUNICIPALITY, target_text="8 ugers træning gennemført"),
        ),
        activities=(ANNUAL, ActivitySpec("Hjerterehabilitering (holdtræning)", MUNICIPALITY, weekdays="MO", weeks=8)),
        measures=(ObservationCode.BLOOD_PRESSURE,),
    ),
    Programme(
        "I48",
        "Atrieflimren – forløbsplan",
        "Atrieflimren",
        goals=(GoalSpec("Velreguleret blodfortyndende behandling", GP, target_text="Ingen blødninger"),),
        activities=(ActivitySpec("Kontrol af blodfortyndende behandling", GP, due_in=(-2, 90)),),
        measures=(ObservationCode.BLOOD_PRESSURE,),
    ),
    Programme(
        "N18",
        "Kronisk nyresygdom – forløbsplan",
        "Kronisk nyresygdom",
        goals=(
            GoalSpec("Blodtryk under 130/80 mmHg", GP, target=(ThresholdCode.SYSTOLIC, "<", "130", "mmHg")),
            GoalSpec("Bevaret nyrefunktion", GP, target_text="eGFR stabil"),
        ),
        activities=(ActivitySpec("Kontrol af nyretal (eGFR)", GP, due_in=(-3, 90)), HOME_BP),
        measures=(ObservationCode.BLOOD_PRESSURE,),
    ),
    Programme(
        "M06",
        "Leddegigt – forløbsplan",
        "Leddegigt",
        goals=(GoalSpec("Går på trapper uden hjælp", MUNICIPALITY, target_text="Trapper uden hjælp"),),
        activities=(ANNUAL, ActivitySpec("Genoptræning med fysioterapeut", MUNICIPALITY, weekdays="TU,FR")),
    ),
    Programme(
        "F32",
        "Depression – forløbsplan",
        "Depression",
        goals=(GoalSpec("Færre depressive symptomer", GP, target_text="PHQ-9 under 10"),),
        activities=(
            ActivitySpec("Opfølgende samtale hos egen læge", GP, due_in=(-2, 30)),
            ActivitySpec("Aktivitets- og samværstilbud", MUNICIPALITY, weekdays="WE"),
        ),
    ),
    Programme(
        "I10",
        "Forhøjet blodtryk – forløbsplan",
        "Forhøjet blodtryk",
        goals=(BP_GOAL,),
        activities=(ANNUAL, HOME_BP),
        measures=(ObservationCode.BLOOD_PRESSURE,),
    ),
]
BY_CODE = {p.code: p for p in PROGRAMMES}
MEDICINE = ActivitySpec("Hjælp til medicin (dosisdispenseret)", MUNICIPALITY, weekdays=EVERY_DAY)
HEART_CLINIC = ActivitySpec("Ekkokardiografi i hjertesvigtsklinikken", HOSPITAL, due_in=(10, 30))
# For a plan whose programmes give too little: every plan has at least two goals and activities.
GENERIC_GOAL = GoalSpec("Kender egen sygdom og behandling", GP, target_text="Deltager i årskontrol")


def plan_title(programmes: list[Programme]) -> str:
    if len(programmes) == 1:
        return programmes[0].title
    names = [programmes[0].name] + [p.name.lower() if p.name != "KOL" else p.name for p in programmes[1:]]
    joined = f"{', '.join(names[:-1])} og {names[-1]}"
    return f"{joined} – forløbsplan"
