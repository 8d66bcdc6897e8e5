"""Per-workplace vocabularies for builtin-v2's text inputs (memos, briefs, e-mails, meeting notes).

Tables already follow the persona's workplace (``datagen.DOMAIN_SCHEMAS``); the prose around them
did not (a food bank's hand-off notes spoke of "room booking with facilities" and the IT desk).
The twenty workplaces fall into fourteen families; each family lists the words its documents use.
Only builtin-v2 reads this module, so builtin-v1 stays byte-identical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Vocab:
    family: str
    notes: tuple[str, ...]
    """Memo sentences, as hand-off notes, minutes and briefs at such a workplace say them."""
    events: tuple[str, ...]
    """Occasions a planning brief is written for (title case)."""
    teams: tuple[str, ...]
    """Teams a newcomer joins (title case)."""
    services: tuple[str, ...]
    """Internal services a runbook covers (slugs)."""
    systems: tuple[str, ...]
    """Systems a downtime notice names (lower case noun phrases)."""
    meetings: tuple[str, ...]
    """Recurring meetings (lower case noun phrases)."""
    codes: tuple[str, ...]
    """Prefixes of the workplace's reference codes."""
    keywords: frozenset[str]
    """Words that mark a text as this family's (lower case; :func:`family_score` drops those that are
    generic or shared with another family)."""


def _v(family: str, notes: tuple[str, ...], events: tuple[str, ...], teams: tuple[str, ...],
       services: tuple[str, ...], systems: tuple[str, ...], meetings: tuple[str, ...], codes: tuple[str, ...],
       keywords: str) -> Vocab:
    return Vocab(family, notes, events, teams, services, systems, meetings, codes, frozenset(keywords.split()))


FAMILIES: dict[str, Vocab] = {v.family: v for v in (
    _v("healthcare", (
        "Patient intake forms were checked against the scheduling export.",
        "The ward rota for next month is still waiting on two nurses.",
        "Sterilization logs are complete for every treatment room.",
        "Radiology asked us to move the scanner maintenance to a weekend.",
        "No-show rates rose again for early morning appointments.",
        "The pharmacy still owes us the updated formulary.",
        "Infection-control audit findings are listed at the end of this note.",
        "Clinicians agreed to shorten the triage window by five minutes.",
        "Consent forms for the new procedure are attached.",
        "Front desk staff flagged duplicate patient records again.",
    ), ("Patient safety day", "Flu vaccination drive", "Clinical skills refresher", "Dental hygiene open day"),
        ("Patient Services", "Front Desk", "Clinical Coordination", "Radiology"),
        ("patient-portal", "ehr-gateway", "pathology-feed", "appointment-booker"),
        ("patient portal", "appointment scheduler", "pathology results feed", "imaging archive"),
        ("clinical governance review", "ward staffing huddle", "patient safety briefing", "theatre scheduling meeting"),
        ("PAT", "CLN", "WRD"),
        "patient patients clinic clinical clinician clinicians ward nurse nurses triage radiology sterilization "
        "pharmacy formulary appointment appointments consent infection dental hygiene vaccination ehr imaging theatre "
        "pathology flu"),
    _v("veterinary", (
        "Vaccination reminders went out to every pet owner on the list.",
        "The kennel area was deep-cleaned after the last boarding week.",
        "Two dogs are still waiting for their post-surgery check.",
        "Anaesthetic stock was counted against the clinic log.",
        "Owners asked for earlier slots for cat dental cleanings.",
        "The on-call vet rota for weekends is attached.",
        "Flea and tick treatments are selling faster than expected.",
        "The x-ray unit needs a service visit before the end of the month.",
    ), ("Puppy socialisation evening", "Pet vaccination week", "Open kennel day", "Exotic pets clinic"),
        ("Small Animals", "Reception", "Surgery", "Boarding"),
        ("pet-records", "vaccine-reminders", "boarding-bookings", "vet-scheduler"),
        ("pet records system", "vaccine reminder service", "boarding calendar", "vet scheduling system"),
        ("surgery planning huddle", "kennel staff meeting", "vet rota review", "pet owner feedback session"),
        ("VET", "PET", "KNL"),
        "pet pets dog dogs cat cats kennel boarding vet vets veterinary anaesthetic flea tick puppy vaccine "
        "owner owners surgery exotic x-ray animals"),
    _v("education", (
        "Report cards for the spring term were checked against the gradebook.",
        "Two substitute teachers are still needed for the exam week.",
        "Parent-teacher conference slots are almost fully booked.",
        "The museum excursion permission slips are attached.",
        "Attendance dropped in the last week before the holidays.",
        "The curriculum committee approved the new reading list.",
        "Classroom supply orders were split by grade level.",
        "Questions about the timetable go to the school office.",
    ), ("Science fair", "Parent-teacher evening", "Graduation ceremony", "Back-to-school night"),
        ("Mathematics Department", "Student Services", "Curriculum", "Special Education"),
        ("gradebook-sync", "lesson-planner", "student-portal", "attendance-tracker"),
        ("gradebook", "student portal", "lesson planner", "attendance tracker"),
        ("curriculum committee", "staff meeting", "grade-level planning session", "exam board review"),
        ("SCH", "CUR", "STU"),
        "student students teacher teachers school classroom curriculum gradebook grade grades term exam exams "
        "parent parents report cards attendance substitute graduation science fair lesson lessons excursion "
        "permission slips mathematics teaching"),
    _v("creative", (
        "The client signed off on the second round of concepts.",
        "Font licences for the rebrand were renewed.",
        "Mood boards for the new campaign are attached.",
        "The print proofs came back with colour shifts on page four.",
        "Two illustrations still need the client's feedback.",
        "Revisions beyond the agreed three rounds are billed separately.",
        "The animation style frames were exported at full resolution.",
        "The photo shoot moved to the studio on Friday.",
    ), ("Portfolio review", "Client pitch day", "Brand workshop", "Studio open house"),
        ("Design", "Client Services", "Illustration", "Production"),
        ("artwork-store", "proofing-portal", "render-queue", "design-review"),
        ("artwork store", "proofing portal", "render queue", "design review board"),
        ("concept review", "client feedback call", "design critique", "production check-in"),
        ("DSN", "CLT", "ART"),
        "client clients concept concepts font mood board rebrand campaign proofs proof illustration illustrations "
        "revisions style frames photo shoot studio portfolio pitch brand design critique render artwork proofing "
        "animation"),
    _v("retail", (
        "Abandoned-cart emails went out to last week's shoppers.",
        "The checkout page conversion dipped after the theme update.",
        "Returns from the spring sale are still being restocked.",
        "Two marketplace listings show the wrong product photos.",
        "The promo code for newsletter subscribers expires at month end.",
        "Shopper reviews mention slow delivery to rural addresses.",
        "Fulfilment partners confirmed the holiday cut-off dates.",
        "Product pages were checked against the storefront export.",
    ), ("Summer flash sale", "Black Friday launch", "Loyalty programme kickoff", "New product drop"),
        ("Growth", "Customer Experience", "Fulfilment", "Merchandising"),
        ("checkout-api", "storefront-sync", "cart-service", "returns-portal"),
        ("online checkout", "storefront catalogue", "returns portal", "storefront"),
        ("merchandising sync", "conversion review", "fulfilment stand-up", "promo planning call"),
        ("ORD", "SKU", "PRM"),
        "shopper shoppers checkout cart conversion returns marketplace listing listings promo product products "
        "fulfilment storefront merchandising loyalty sale customer reviews order orders"),
    _v("transport", (
        "Ridership on the night routes was checked against the fare export.",
        "Two buses are still in the depot for brake repairs.",
        "The timetable change for the summer schedule is attached.",
        "Riders reported broken docks at three stations.",
        "Driver shifts for the holiday weekend are almost covered.",
        "Rebalancing trucks moved bikes to the downtown docks twice a day.",
        "Fare validators on route 7 keep rejecting monthly passes.",
        "The depot asked for spare tyres before winter.",
    ), ("Route network consultation", "Bike to work week", "Depot open day", "Night bus launch"),
        ("Fleet Operations", "Rider Support", "Scheduling", "Depot Maintenance"),
        ("fare-gateway", "dock-status", "trip-planner", "fleet-tracker"),
        ("fare payment system", "dock status map", "trip planner", "fleet tracker"),
        ("service planning meeting", "depot safety briefing", "rider feedback review", "fleet maintenance sync"),
        ("RTE", "FLT", "DPT"),
        "ridership route routes bus buses depot timetable rider riders dock docks station stations driver drivers "
        "bike bikes rebalancing fare fares fleet trip tyres passes"),
    _v("food_service", (
        "Walk-in fridge temperatures were logged twice a day all week.",
        "The new seasonal menu goes to tasting on Thursday.",
        "Two suppliers are late with the dairy delivery.",
        "Kitchen staff asked for an extra prep shift on weekends.",
        "Covers were down on rainy evenings.",
        "The roaster profile for the new beans is attached.",
        "Allergen labels were checked against every recipe card.",
        "Green coffee beans will last until the next container arrives.",
    ), ("Seasonal menu tasting", "Chef's table evening", "Cupping session", "Brunch launch"),
        ("Kitchen", "Front of House", "Roasting", "Catering"),
        ("kitchen-display", "menu-service", "reservation-book", "roast-logger"),
        ("kitchen display", "reservation book", "menu board", "roast logger"),
        ("kitchen line-up", "menu tasting meeting", "supplier review", "cupping session"),
        ("KIT", "MNU", "RST"),
        "menu kitchen chef fridge recipe recipes allergen allergens covers dairy tasting prep roaster roast roasting "
        "beans coffee cupping brunch reservation reservations dish dishes"),
    _v("software", (
        "The release branch was cut after the last pull request was merged.",
        "Two flaky tests still block the nightly build.",
        "Contributors asked for clearer docs on the plugin API.",
        "The maintainers' on-call rota spans the upgrade weekend.",
        "Churned accounts mentioned slow dashboard loads.",
        "The changelog for the minor release is attached.",
        "Dependency updates were checked against the security advisories.",
        "Support tickets about single sign-on doubled this sprint.",
    ), ("Release candidate sprint", "Contributor summit", "Customer webinar", "Hackathon"),
        ("Platform", "Developer Relations", "Customer Success", "Infrastructure"),
        ("sso-gateway", "ci-runner", "plugin-registry", "webhook-relay"),
        ("billing portal", "single sign-on service", "status page", "CI pipeline"),
        ("sprint planning", "release retro", "maintainers call", "incident review"),
        ("GH", "REL", "SPR"),
        "release branch pull request merged flaky tests build contributors contributor docs plugin api changelog "
        "dependency dependencies sprint sso dashboard webinar hackathon maintainers ci webhook churned sign-on "
        "runner upgrade"),
    _v("research", (
        "Sample labels were checked against the freezer inventory.",
        "The centrifuge booking sheet is full until Wednesday.",
        "Two grant reports are due before the funding review.",
        "The ethics committee approved the amended protocol.",
        "Reagent lot numbers are recorded for every run.",
        "The field sampling campaign moved to the second week of the month.",
        "Instrument calibration logs are attached.",
        "Draft figures for the manuscript need one more pass.",
    ), ("Lab safety induction", "Poster session", "Field season kickoff", "Journal club retreat"),
        ("Sequencing Core", "Field Ecology", "Lab Operations", "Grants Office"),
        ("sample-tracker", "instrument-booking", "lims-bridge", "sequencer-pipeline"),
        ("sample tracker", "instrument booking system", "LIMS", "sequencing data server"),
        ("lab meeting", "journal club", "grant review", "protocol committee"),
        ("LAB", "GRT", "PRT"),
        "sample samples freezer centrifuge grant grants ethics protocol reagent reagents instrument calibration "
        "manuscript figures field lab poster journal sequencing lims sequencer sampling"),
    _v("logistics", (
        "Pallet counts were checked against the warehouse management export.",
        "Two carriers missed their pickup slots this week.",
        "The loading dock schedule for the peak season is attached.",
        "Forklift inspections are overdue in aisle C.",
        "Cycle counts found three pallet bins with the wrong SKU.",
        "Inbound containers are queuing at the yard gate.",
        "Pick rates dropped on the night shift.",
        "Damaged goods are held in the returns cage until inspected.",
    ), ("Peak season kickoff", "Forklift safety day", "Carrier review day", "Warehouse open day"),
        ("Inbound", "Dispatch", "Yard Operations", "Inventory Control"),
        ("wms-sync", "bay-scheduler", "carrier-gateway", "pick-router"),
        ("warehouse management system", "loading bay scheduler", "carrier portal", "pallet label queue"),
        ("dispatch stand-up", "carrier review", "shift handover", "inventory control meeting"),
        ("WHS", "DCK", "PCK"),
        "pallet pallets warehouse carrier carriers pickup bay loading forklift aisle bins bin sku inbound "
        "containers yard pick picking dispatch shift cage wms"),
    _v("arts", (
        "Ticket holds for the opening night went back to the box office.",
        "The lighting rig needs two more hands for the get-in.",
        "Rehearsal schedule changes are attached.",
        "Understudies are confirmed for the matinee.",
        "The box office reported strong sales for the Saturday show.",
        "Costume fittings moved to the green room.",
        "Ushers are still needed for the closing weekend.",
        "The stage set build went over by two days.",
    ), ("Opening night gala", "Season launch", "Youth drama workshop", "Backstage tour day"),
        ("Box Office", "Stage Management", "Wardrobe", "Front of House"),
        ("box-office", "seating-chart", "playbill-service", "rehearsal-planner"),
        ("box office system", "seating plan tool", "season ticket portal", "rehearsal calendar"),
        ("production meeting", "tech rehearsal review", "front of house briefing", "casting session"),
        ("PRD", "BOX", "STG"),
        "ticket tickets rehearsal rehearsals lighting rig understudies matinee box office show costume green room "
        "ushers set stage gala season drama backstage casting wardrobe seating playbill"),
    _v("energy", (
        "Roof surveys were checked against the installation schedule.",
        "Two inverters are back with the supplier for warranty repair.",
        "Grid connection approvals are still pending for three sites.",
        "Panel deliveries for next week are attached.",
        "Crews asked for extra harnesses before the roof work.",
        "Customers asked about battery storage add-ons.",
        "Solar permit applications were filed with the council.",
        "Yield reports for the summer installs look strong.",
    ), ("Solar open house", "Installer safety day", "Community energy evening", "Battery storage launch"),
        ("Installations", "Site Surveys", "Permits", "Field Crews"),
        ("panel-monitoring", "solar-quotes", "roof-survey", "grid-permits"),
        ("panel monitoring portal", "solar quote builder", "roof survey app", "grid permit tracker"),
        ("crew briefing", "install planning meeting", "permit review", "site safety check-in"),
        ("SOL", "INV", "GRD"),
        "roof roofs inverter inverters grid panel panels solar installation installations crews crew harnesses "
        "battery permit permits yield install installs kw"),
    _v("legal", (
        "Filing deadlines were checked against the court calendar.",
        "Two clients still owe signed engagement letters.",
        "The conflict check for the new matter is attached.",
        "Billable hours for the quarter are being reconciled.",
        "Discovery documents were indexed for the case team.",
        "The hearing moved to the afternoon session.",
        "Retainer balances are low on three matters.",
        "Precedents for the lease dispute are in the shared folder.",
    ), ("Client seminar", "Pro bono clinic", "Continuing legal education day", "Partners retreat"),
        ("Litigation", "Conveyancing", "Employment Law", "Paralegal Team"),
        ("matter-index", "billable-time", "court-calendar", "discovery-vault"),
        ("matter management system", "billable time system", "court e-filing portal", "discovery vault"),
        ("case review", "partners meeting", "docket check", "matter intake meeting"),
        ("MAT", "CAS", "LIT"),
        "filing court clients engagement conflict matter matters billable discovery hearing retainer precedents "
        "lease dispute litigation paralegal docket counsel legal pro bono"),
    _v("media", (
        "Copy for the weekend edition was checked against the style guide.",
        "Two freelancers still owe photos for the features section.",
        "The corrections log is attached.",
        "Print deadlines for the edition move forward by an hour on holidays.",
        "Readers complained about the paywall on local news.",
        "Subscriptions rose after the election coverage.",
        "The sports desk needs a second sub-editor on Saturdays.",
        "Advertising slots for the print edition are almost sold out.",
    ), ("Reader town hall", "Election night coverage", "Newsroom open day", "Local journalism awards"),
        ("News Desk", "Features", "Sports Desk", "Digital"),
        ("edition-publisher", "paywall-service", "newsroom-mailer", "wire-ingest"),
        ("newsroom CMS", "paywall", "edition newsletter", "wire feed"),
        ("editorial conference", "news desk huddle", "features planning meeting", "corrections review"),
        ("ED", "STY", "NWS"),
        "copy edition freelancers photos features corrections print readers paywall subscriptions coverage "
        "editor sub-editor desk advertising newsroom journalism editorial wire headline"),
    _v("nonprofit", (
        "Donation weights were checked against the intake log.",
        "Two volunteer drivers are needed for Saturday's pantry run.",
        "The partner agency list for distribution is attached.",
        "Cold storage is nearly full after the dairy drive.",
        "Food drive bins at the supermarkets were emptied on Monday.",
        "Funding reports on the food programme are due at month end.",
        "Pantry visits rose sharply in the last week of the month.",
        "Expired stock was separated for composting.",
    ), ("Community food drive", "Volunteer appreciation night", "Harvest festival", "Pantry open day"),
        ("Volunteer Coordination", "Food Sourcing", "Distribution", "Partner Agencies"),
        ("donor-crm", "pantry-booking", "volunteer-roster", "donation-intake"),
        ("donor database", "pantry booking system", "volunteer roster", "donation intake log"),
        ("volunteer briefing", "distribution planning meeting", "partner agency call", "donor review"),
        ("DON", "VOL", "PAN"),
        "donation donations volunteer volunteers pantry distribution agency agencies drive food donor donors "
        "harvest cold storage composting garden"),
    _v("library", (
        "Overdue notices were checked against the circulation export.",
        "Two volunteers are needed for the summer reading programme.",
        "The new acquisitions list is attached.",
        "Interlibrary loan requests doubled this month.",
        "The reading room closes early for the author talk.",
        "Damaged books were sent for rebinding.",
        "Patrons asked for longer loan periods on audiobooks.",
        "Archive boxes from the local history collection were catalogued.",
    ), ("Summer reading challenge", "Author talk", "Local history exhibition", "Book sale weekend"),
        ("Circulation", "Reference Desk", "Children's Services", "Special Collections"),
        ("catalogue-search", "circulation-desk", "interlibrary-loans", "ebook-loans"),
        ("library catalogue", "circulation kiosks", "interlibrary loan system", "e-book lending platform"),
        ("collection development meeting", "branch managers call", "programming review", "archives committee"),
        ("LIB", "ILL", "CAT"),
        "overdue circulation reading acquisitions interlibrary loan loans patrons audiobooks books book rebinding "
        "catalogued catalogue archive archives collection author library librarian"),
)}

DOMAIN_FAMILY: dict[str, str] = {
    "a regional hospital network": "healthcare", "a dental clinic": "healthcare",
    "a veterinary practice": "veterinary", "a public school district": "education",
    "a two-person design studio": "creative", "an e-commerce startup": "retail",
    "a city transit agency": "transport", "a bike-sharing service": "transport",
    "a family-run restaurant group": "food_service", "a coffee roastery": "food_service",
    "an open-source project": "software", "a mid-size SaaS company": "software",
    "a university research lab": "research", "a logistics warehouse": "logistics",
    "a community theater": "arts", "a solar-panel installer": "energy", "a law office": "legal",
    "a local newspaper": "media", "a food bank": "nonprofit", "a public library": "library",
}
"""Each workplace's family (every domain of ``personas.DOMAINS``)."""


def vocab_for(domain: str) -> Vocab:
    """The vocabulary of the workplace ``domain``."""
    return FAMILIES[DOMAIN_FAMILY[domain]]


_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")
_PART = re.compile(r"[a-z]+")
_GENERIC = frozenset(str.split(
    "office set show room green report cards drive storage customer order orders sale reviews tests build docs api "
    "copy desk print photos term grade shift owner owners season field survey figures collection archive board "
    "frames style clients client concept product products feed line request release features bin bins pickup permit "
    "permits branch book legal lab listing listings sku coffee bus studio ticket tickets"))
"""Keywords any office's text may use (a parking permit, a coffee break): they mark no family."""
_SHARED = frozenset(w for a in FAMILIES.values() for b in FAMILIES.values() if a is not b
                    for w in a.keywords & b.keywords)
_MARKERS = {name: v.keywords - _GENERIC - _SHARED for name, v in FAMILIES.items()}


def family_score(text: str) -> dict[str, int]:
    """How many of each family's keywords ``text`` uses (families with none are left out)."""
    low = text.lower()
    words = set(_WORD.findall(low)) | set(_PART.findall(low))
    hits = {name: len(words & marks) for name, marks in _MARKERS.items()}
    return {k: n for k, n in hits.items() if n}


@dataclass(frozen=True)
class MeetingTopic:
    """An agenda topic of a meeting (``action_items``; its office-wide topics use this class too)."""

    name: str
    prefix: str
    tasks: tuple[tuple[str, tuple[str, ...]], ...]
    """(task as said in the meeting, words one of which any fair summary keeps)."""
    decision: str
    options: tuple[str, ...]


def _t(name: str, prefix: str, tasks: tuple[tuple[str, str], ...], decision: str, options: tuple[str, ...]
       ) -> MeetingTopic:
    return MeetingTopic(name, prefix, tuple((text, tuple(words.split("|"))) for text, words in tasks), decision,
                        options)


TOPICS: dict[str, tuple[MeetingTopic, ...]] = {
    "healthcare": (
        _t("Patient flow", "PFL", (("audit the no-show list for the morning clinics", "no-show"),
                                   ("update the triage checklist at the front desk", "triage"),
                                   ("call back the patients on the cancellation list", "cancellation")),
           "Walk-in hours will end at {v}.", ("17:30", "18:00", "16:45")),
        _t("Infection control", "INF", (("restock the hand-hygiene stations", "hygiene"),
                                        ("book the sterilizer service visit", "steriliz"),
                                        ("share the audit findings with the ward leads", "audit|finding")),
           "Mask use stays mandatory in {v}.", ("the waiting room", "Ward 3", "the recovery bay")),
    ),
    "veterinary": (
        _t("Kennels", "KEN", (("deep-clean the isolation kennels", "kennel|isolation"),
                              ("order new bedding for the boarding area", "bedding"),
                              ("check the kennel heating before winter", "heating")),
           "Boarding will be capped at {v} per night.", ("12 dogs", "15 animals", "10 cats")),
        _t("Vaccinations", "VAX", (("send reminders for overdue booster shots", "booster|reminder"),
                                   ("count the rabies vaccine stock", "rabies"),
                                   ("update the puppy vaccination leaflet", "leaflet|puppy")),
           "Booster appointments move to {v}.", ("Tuesday mornings", "Saturday clinics", "the late slot")),
    ),
    "education": (
        _t("Exams", "EXM", (("print the mock exam papers", "mock|exam"),
                            ("book the sports hall for the exam week", "sports hall|hall"),
                            ("send the exam timetable to parents", "timetable")),
           "Mock exams start on {v}.", ("March 9", "the second Monday", "April 14")),
        _t("Field trips", "TRP", (("collect the permission slips", "permission|slip"),
                                  ("book the coach for the museum visit", "coach"),
                                  ("confirm the chaperones for Year 8", "chaperone")),
           "The museum trip goes to {v}.", ("the Science Museum", "the Maritime Museum", "the city archive")),
    ),
    "creative": (
        _t("Client work", "CLW", (("send the revised concepts to the client", "concept"),
                                  ("chase the signed quote for the rebrand", "quote|rebrand"),
                                  ("export the final logo files", "logo")),
           "Extra revision rounds will be billed at {v}.", ("$85 an hour", "$120 an hour", "$95 an hour")),
        _t("Studio", "STU", (("renew the font licences", "font|licen"),
                             ("back up the project archive", "back up|backup"),
                             ("calibrate the print proofing monitor", "calibrat|monitor")),
           "The studio moves to {v}.", ("Figma", "Affinity", "Adobe Express")),
    ),
    "retail": (
        _t("Checkout", "CHK", (("fix the coupon field on the checkout page", "coupon|checkout"),
                               ("test the new payment provider", "payment"),
                               ("review the abandoned-cart emails", "abandoned|cart")),
           "Free shipping starts at {v}.", ("$49", "$60", "$75")),
        _t("Returns", "RTN", (("restock the items from the spring returns", "restock|returns"),
                              ("update the returns policy page", "policy"),
                              ("print the prepaid return labels", "label")),
           "The return window will be {v}.", ("30 days", "21 days", "45 days")),
    ),
    "transport": (
        _t("Fleet", "FLE", (("schedule the brake checks for the depot", "brake"),
                            ("order winter tyres for the fleet", "tyre|tire"),
                            ("repair the broken docks at the central station", "dock")),
           "Spare vehicles will be kept at {v}.", ("the north depot", "the river depot", "the central yard")),
        _t("Timetables", "TTB", (("publish the summer timetable", "timetable"),
                                 ("post the detour notices at the stops", "detour|notice"),
                                 ("review the late-night route changes", "route")),
           "Night service will run until {v}.", ("01:30", "02:00", "00:45")),
    ),
    "food_service": (
        _t("Menu", "MEN", (("cost out the new seasonal dishes", "dish|seasonal"),
                           ("update the allergen labels", "allergen"),
                           ("print the new menu cards", "menu")),
           "The tasting menu will be priced at {v}.", ("$56", "$66", "$72")),
        _t("Kitchen", "KTC", (("log the walk-in fridge temperatures", "fridge|temperature"),
                              ("book the grease trap cleaning", "grease"),
                              ("sharpen the line knives", "knive|knife")),
           "Prep starts at {v} on weekends.", ("06:30", "07:00", "07:30")),
    ),
    "software": (
        _t("Release", "RLS", (("cut the release branch", "branch"),
                              ("write the changelog for the minor release", "changelog"),
                              ("fix the flaky integration tests", "flaky|test")),
           "The next release ships on {v}.", ("the first Tuesday", "June 3", "the 15th")),
        _t("On-call", "ONC", (("update the incident runbook", "runbook"),
                              ("rotate the on-call schedule", "on-call|schedule"),
                              ("tune the noisy latency alerts", "alert|latency")),
           "Pages will go through {v} from now on.", ("PagerDuty", "Opsgenie", "Grafana OnCall")),
    ),
    "research": (
        _t("Samples", "SMP", (("relabel the samples in freezer B", "label|freezer"),
                              ("ship the soil cores to the partner lab", "soil|core"),
                              ("log the reagent lot numbers", "reagent|lot")),
           "Samples older than {v} will be discarded.", ("two years", "18 months", "three years")),
        _t("Grants", "GRT", (("draft the interim grant report", "grant|report"),
                             ("collect the timesheets for the funder", "timesheet"),
                             ("update the data management plan", "data management|plan")),
           "The renewal will ask for {v}.", ("$240,000", "$185,000", "$310,000")),
    ),
    "logistics": (
        _t("Dock", "DOC", (("rebook the missed carrier pickups", "carrier|pickup"),
                           ("clear the blocked bay at dock 4", "bay|dock"),
                           ("post the peak-season loading schedule", "loading|schedule")),
           "Inbound trucks will be booked in {v} slots.", ("30-minute", "45-minute", "one-hour")),
        _t("Safety", "SAF", (("inspect the forklifts in aisle C", "forklift"),
                             ("repaint the walkway markings", "walkway|marking"),
                             ("refresh the racking load signs", "racking|sign")),
           "Forklift refresher training is due every {v}.", ("12 months", "two years", "six months")),
    ),
    "arts": (
        _t("Rehearsals", "REH", (("book the hall for the tech rehearsal", "tech|hall"),
                                 ("send the updated rehearsal schedule to the cast", "cast|rehearsal"),
                                 ("confirm the understudies for the matinee", "understud")),
           "The opening night is set for {v}.", ("October 10", "the 21st", "November 2")),
        _t("Box office", "BOX", (("release the house seats for Saturday", "house seat|seat"),
                                 ("set up the student ticket discount", "discount|student"),
                                 ("recruit ushers for the closing weekend", "usher")),
           "Student tickets will cost {v}.", ("$14", "$16", "$9")),
    ),
    "energy": (
        _t("Installs", "INS", (("confirm the roof surveys for next week", "roof|survey"),
                               ("return the faulty inverters to the supplier", "inverter"),
                               ("order extra mounting rails", "rail|mounting")),
           "Each crew will take on {v} per week.", ("three installs", "four installs", "two installs")),
        _t("Permits", "PMT", (("file the grid connection applications", "grid|connection"),
                              ("chase the council for the planning permits", "council|permit"),
                              ("update the permit tracker", "tracker")),
           "Permits are filed within {v} of signing.", ("five days", "a week", "ten days")),
    ),
    "legal": (
        _t("Filings", "FIL", (("file the defence before the court deadline", "defence|defense|court"),
                              ("prepare the hearing bundle", "bundle|hearing"),
                              ("index the discovery documents", "discovery|index")),
           "Draft filings are due {v} before the deadline.", ("three days", "two days", "a week")),
        _t("New matters", "NMT", (("run the conflict check for the new client", "conflict"),
                                  ("send out the engagement letter", "engagement"),
                                  ("open the matter in the case system", "matter")),
           "The standard retainer will be {v}.", ("$2,500", "$5,000", "$3,000")),
    ),
    "media": (
        _t("Weekend edition", "WKD", (("commission the features cover story", "cover|commission"),
                                      ("chase the freelance photos", "photo|freelance"),
                                      ("proofread the opinion pages", "proofread|opinion")),
           "The print deadline moves to {v} on Fridays.", ("21:00", "20:30", "22:15")),
        _t("Digital", "DIG", (("fix the paywall bug on mobile", "paywall"),
                              ("schedule the morning newsletter", "newsletter"),
                              ("update the corrections page", "correction")),
           "The paywall will allow {v} per month.", ("five free articles", "three free articles", "ten free articles")),
    ),
    "nonprofit": (
        _t("Pantry", "PNT", (("sort the canned goods from the food drive", "canned|drive"),
                             ("defrost and clean the cold room", "cold room|defrost"),
                             ("update the pantry opening hours sign", "opening hours|sign")),
           "Each household can collect {v} per week.", ("two parcels", "one parcel", "three bags")),
        _t("Volunteers", "VOL", (("schedule the Saturday volunteer drivers", "driver|volunteer"),
                                 ("run the food-safety briefing for new volunteers", "food-safety|food safety|briefing"),
                                 ("thank the supermarket donors", "donor|supermarket")),
           "Volunteer shifts will be {v} long.", ("three hours", "four hours", "two and a half hours")),
    ),
    "library": (
        _t("Collections", "COL", (("weed the outdated travel guides", "weed|travel guide"),
                                  ("catalogue the local history donations", "catalogu|history"),
                                  ("send the damaged books for rebinding", "rebind|damaged")),
           "The acquisitions budget this year is {v}.", ("$18,000", "$22,500", "$15,000")),
        _t("Programmes", "PRG", (("book the author for the spring talk", "author"),
                                 ("print the summer reading challenge cards", "reading challenge|card"),
                                 ("set up the coding club laptops", "coding club|laptop")),
           "Story time moves to {v}.", ("Saturday mornings", "Wednesday afternoons", "Thursday at 16:00")),
    ),
}
"""Two agenda topics per family for builtin-v2's meeting notes (``action_items``)."""
