"""The pharmacist's acceptance table: what `alertsvc check` must say about well-known pairs (issue 8).

Independent of how the rules are built: each drug is normalised by the name a nurse types (generic names,
a few brands and British names), the real pure check runs over the committed knowledge (data/), and the
table asserts what a hospital pharmacist would sign.

- DANGEROUS: the interaction finding for the pair exists, at no less than the minimum severity public
  labelling supports (critical where US labelling contraindicates the pair; major where it says avoid or
  change therapy now; moderate only where labelling says monitor or adjust), with words a nurse can use:
  a whole summary under 140 characters that states its own severity, ordered steps for major and critical
  findings, and a named rule and source.
- HARMLESS: common ward pairs that must raise nothing major or above (alert fatigue is a safety problem).
- The renal "triple whammy" needs three drugs: one finding names all three.

Each case carries the fact behind it. The curated facts and their sources are in
alertsvc.knowledge.curated_pairs; this table does not read them.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

import pytest

from alertsvc.config import Settings
from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import SEVERITY_ORDER, Finding, Medication, Severity
from alertsvc.knowledge.terminology import Normalizer

MAX_SUMMARY = 140
SEVERITY_IN_SUMMARY = re.compile(r"\((critical|major|moderate|minor)\)")
ORDERED_STEPS = re.compile(r"^1\. .+ 2\. ")


@functools.cache
def knowledge() -> tuple[Normalizer, InteractionGraph]:
    kb = knowledge_files.load(Settings.from_env(os.environ).data_dir)
    return Normalizer(kb), build_graph(kb)


def medications(*terms: str) -> list[Medication]:
    normalizer, _ = knowledge()
    meds = []
    for term in terms:
        resolution = normalizer.resolve(term)
        if resolution.unresolved is not None:
            pytest.fail(f"{term!r} does not resolve: {resolution.unresolved}")
        meds.append(normalizer.medication(term, ref=term))
    return meds


def findings_for(*terms: str) -> list[Finding]:
    return check(medications(*terms), [], [], knowledge()[1])


def at_least(severity: str, minimum: str) -> bool:
    return SEVERITY_ORDER[severity] <= SEVERITY_ORDER[minimum]


@dataclass(frozen=True)
class Dangerous:
    """Two (or three) drugs as typed, the least severity a pharmacist accepts, and the fact behind it.

    ``involved`` names the RxNorm ingredients the finding must be about when a drug is a combination
    product (e.g. Bactrim: warfarin with sulfamethoxazole); by default, each drug's single ingredient.
    """

    drugs: tuple[str, ...]
    minimum: Severity
    fact: str
    involved: tuple[str, ...] = ()


def case(first: str, second: str, minimum: Severity, fact: str, *involved: str) -> object:
    return pytest.param(Dangerous((first, second), minimum, fact, involved), id=f"{first}+{second}")


DANGEROUS = [
    # --- CYP3A: strong inhibitor + sensitive or narrow-range substrate --------------------------------
    case("simvastatin", "clarithromycin", "critical", "Zocor 4: strong CYP3A4 inhibitors contraindicated"),
    case("Zocor", "Biaxin", "critical", "the same pair by brand: a ledger may say only the brands"),
    case("simvastatin", "itraconazole", "critical", "Zocor and Sporanox 4: contraindicated"),
    case("lovastatin", "ketoconazole", "critical", "lovastatin Contraindications: strong CYP3A4 inhibitors"),
    case("colchicine", "clarithromycin", "major", "Colcrys: fatal toxicity; contraindicated in renal or "
         "hepatic impairment, dose cut otherwise"),
    case("tacrolimus", "clarithromycin", "major", "strong CYP3A inhibitor raises a narrow-range "
         "immunosuppressant: Prograf 7, reduce dose and monitor trough levels"),
    case("ranolazine", "clarithromycin", "critical", "Ranexa 4: strong CYP3A inhibitors contraindicated"),
    case("pimozide", "clarithromycin", "critical", "Orap Contraindications: macrolides"),
    case("ivabradine", "clarithromycin", "critical", "Corlanor 4: strong CYP3A4 inhibitors"),
    case("triazolam", "ketoconazole", "critical", "Halcion 4: strong CYP3A inhibitors"),
    case("dronedarone", "ketoconazole", "critical", "Multaq 4: strong CYP3A inhibitors"),
    case("eplerenone", "clarithromycin", "critical", "Inspra 4: strong CYP3A inhibitors"),
    case("quetiapine", "ketoconazole", "major", "Seroquel 2 and 7: cut quetiapine to one sixth"),
    case("fentanyl", "ritonavir", "major", "opioid boxed warning: CYP3A4 inhibitors, fatal respiratory "
         "depression"),
    case("oxycodone", "clarithromycin", "major", "OxyContin boxed warning: CYP3A4 inhibitors"),
    case("apixaban", "ketoconazole", "major", "Eliquis 7.1: halve the dose or avoid"),
    case("rivaroxaban", "ritonavir", "major", "Xarelto 7.2: avoid combined P-gp and strong CYP3A "
         "inhibitors"),
    case("ticagrelor", "clarithromycin", "major", "Brilinta 7.1: avoid strong CYP3A inhibitors"),
    # --- CYP2C9 -----------------------------------------------------------------------------------------
    case("warfarin", "fluconazole", "major", "fluconazole inhibits CYP2C9: INR rises sharply"),
    case("Coumadin", "Diflucan", "major", "the same pair by brand"),
    case("phenytoin", "fluconazole", "major", "CYP2C9 inhibition raises a narrow-range antiepileptic "
         "(Diflucan Drug Interactions: monitor phenytoin levels)"),
    case("warfarin", "amiodarone", "major", "amiodarone label: cut warfarin by a third to a half"),
    case("warfarin", "metronidazole", "major", "Flagyl: potentiates warfarin (CYP2C9)"),
    case("warfarin", "Bactrim", "major", "sulfamethoxazole inhibits CYP2C9", "warfarin", "sulfamethoxazole"),
    case("warfarin", "miconazole", "major", "MHRA 2016/2017: fatal bleeding with miconazole oral gel"),
    # --- CYP1A2 -----------------------------------------------------------------------------------------
    case("theophylline", "ciprofloxacin", "major", "Cipro 5 and 7: serious and fatal reactions; avoid"),
    case("theophylline", "fluvoxamine", "major", "Luvox: give one third of the theophylline dose"),
    case("tizanidine", "ciprofloxacin", "critical", "Zanaflex 4: contraindicated (10-fold exposure)"),
    case("tizanidine", "fluvoxamine", "critical", "Zanaflex 4: contraindicated (33-fold exposure)"),
    case("clozapine", "fluvoxamine", "major", "Clozaril: one third of the clozapine dose"),
    # --- prodrug activation: CYP2C19, CYP2D6 ----------------------------------------------------------
    case("clopidogrel", "omeprazole", "major", "Plavix 5.1, 7: avoid omeprazole (CYP2C19)"),
    case("Plavix", "esomeprazole", "major", "Plavix 5.1, 7: avoid esomeprazole (CYP2C19)"),
    case("codeine", "fluoxetine", "moderate", "CYP2D6 inhibition: less morphine, poor pain relief"),
    case("codeine", "paroxetine", "moderate", "CYP2D6 inhibition: less morphine, poor pain relief"),
    case("tramadol", "paroxetine", "major", "Ultram boxed warning (CYP2D6) and serotonergic: seizures, "
         "serotonin syndrome"),
    case("tramadol", "fluoxetine", "major", "Ultram boxed warning (CYP2D6) and serotonergic"),
    case("tamoxifen", "paroxetine", "moderate", "CYP2D6 inhibition: less endoxifen"),
    # --- P-glycoprotein --------------------------------------------------------------------------------
    case("digoxin", "amiodarone", "major", "Lanoxin 7.1: cut digoxin by 30-50%"),
    case("digoxin", "verapamil", "major", "Lanoxin 7.1: cut digoxin by 30-50%; additive AV block"),
    case("digoxin", "clarithromycin", "major", "Lanoxin 7.1: digoxin levels rise above 50%"),
    case("dabigatran", "dronedarone", "major", "Pradaxa: reduce dose or avoid (P-gp)", "dabigatran etexilate",
         "dronedarone"),
    # --- OATP1B / BCRP and gemfibrozil ------------------------------------------------------------------
    case("rosuvastatin", "cyclosporine", "major", "Crestor: 7-fold exposure, at most 5 mg"),
    case("rosuvastatin", "gemfibrozil", "major", "Crestor 7: avoid"),
    case("simvastatin", "gemfibrozil", "critical", "Zocor 4: contraindicated"),
    case("repaglinide", "gemfibrozil", "critical", "Prandin 4: contraindicated"),
    # --- inducers + narrow-range substrates -------------------------------------------------------------
    case("rifampin", "tacrolimus", "major", "strong inducer: tacrolimus levels fall, rejection"),
    case("rifampicin", "cyclosporine", "major", "strong inducer: cyclosporine levels fall, rejection"),
    case("rifampin", "warfarin", "major", "strong inducer: INR falls, clot risk"),
    case("carbamazepine", "rivaroxaban", "major", "Xarelto 7.3: avoid combined P-gp and strong CYP3A "
         "inducers"),
    case("St John's wort", "cyclosporine", "major", "inducer: cyclosporine levels fall, rejection"),
    case("voriconazole", "rifampin", "critical", "Vfend 4: contraindicated"),
    # --- serotonergic and MAO inhibition ----------------------------------------------------------------
    case("tramadol", "sertraline", "moderate", "Ultram 7: serotonergic drugs, observe closely"),
    case("fentanyl", "sertraline", "moderate", "Duragesic 7: serotonergic drugs, observe closely"),
    case("linezolid", "sertraline", "critical", "Zoloft 4: starting with linezolid is contraindicated"),
    case("methylene blue", "escitalopram", "critical", "Lexapro 4: intravenous methylene blue"),
    case("phenelzine", "sertraline", "critical", "SSRI + MAOI: ONC high-priority; Zoloft 4"),
    case("phenelzine", "tramadol", "critical", "opioid + MAOI: ONC high-priority"),
    case("sumatriptan", "phenelzine", "critical", "triptan + MAOI: ONC high-priority; Imitrex 4"),
    case("bupropion", "phenelzine", "critical", "Wellbutrin 4: MAOIs contraindicated"),
    # --- opioid + benzodiazepine or other CNS depressant (FDA boxed warning, 2016) ---------------------
    case("oxycodone", "lorazepam", "major", "opioid boxed warning: benzodiazepines"),
    case("morphine", "diazepam", "major", "opioid boxed warning: benzodiazepines"),
    case("methadone", "alprazolam", "major", "opioid boxed warning: benzodiazepines"),
    case("oxycodone", "pregabalin", "major", "FDA DSC 19 Dec 2019: gabapentinoids with opioids, "
         "respiratory depression"),
    case("morphine", "gabapentin", "major", "FDA DSC 19 Dec 2019: gabapentinoids with opioids"),
    case("oxycodone", "zolpidem", "major", "opioid boxed warning: other CNS depressants (hypnotics)"),
    # --- bleeding ---------------------------------------------------------------------------------------
    case("warfarin", "ibuprofen", "major", "anticoagulant + NSAID: GI bleeding"),
    case("apixaban", "naproxen", "major", "anticoagulant + NSAID: bleeding"),
    case("warfarin", "clopidogrel", "major", "anticoagulant + P2Y12 inhibitor: bleeding"),
    case("rivaroxaban", "clopidogrel", "major", "anticoagulant + P2Y12 inhibitor: bleeding"),
    case("warfarin", "sertraline", "moderate", "SSRIs impair platelets: monitor bleeding"),
    case("enoxaparin", "ketorolac", "major", "Toradol: extreme caution with anticoagulants"),
    case("ketorolac", "ibuprofen", "critical", "Toradol boxed warning: contraindicated with NSAIDs"),
    # --- hyperkalaemia ----------------------------------------------------------------------------------
    case("lisinopril", "spironolactone", "moderate", "ACE inhibitor + potassium-sparing: monitor K"),
    case("ramipril", "amiloride", "moderate", "Midamor Warnings: ACE inhibitors, monitor K"),
    case("lisinopril", "potassium chloride", "moderate", "ACE inhibitor + potassium: monitor K"),
    case("spironolactone", "trimethoprim", "moderate", "trimethoprim retains potassium: monitor K"),
    case("eplerenone", "potassium chloride", "critical", "Inspra 4: potassium supplements"),
    case("amiloride", "potassium chloride", "critical", "Midamor Contraindications: potassium"),
    case("spironolactone", "potassium chloride", "major", "Aldactone: potassium not ordinarily given"),
    # --- QT: two QT-prolonging drugs (ONC high-priority pair 21) -----------------------------------------
    case("citalopram", "ondansetron", "critical", "two QT drugs: ONC high-priority"),
    case("haloperidol", "methadone", "critical", "two QT drugs: ONC high-priority"),
    case("amiodarone", "levofloxacin", "critical", "two QT drugs: ONC high-priority"),
    # --- bradycardia and AV block -------------------------------------------------------------------------
    case("metoprolol", "verapamil", "major", "beta blocker + verapamil: AV block, asystole"),
    case("bisoprolol", "verapamil", "major", "beta blocker + verapamil: AV block, asystole"),
    case("metoprolol", "diltiazem", "moderate", "beta blocker + diltiazem: bradycardia, monitor"),
    case("ivabradine", "diltiazem", "major", "Corlanor 7: avoid moderate CYP3A4 inhibitors"),
    # --- hypoglycaemia --------------------------------------------------------------------------------
    case("glyburide", "ciprofloxacin", "major", "FDA DSC 10 Jul 2018: severe hypoglycaemia, coma"),
    case("glipizide", "levofloxacin", "major", "FDA DSC 10 Jul 2018: severe hypoglycaemia, coma"),
    case("insulin glargine", "glipizide", "moderate", "additive hypoglycaemia: monitor glucose"),
    # --- anticholinergic load ---------------------------------------------------------------------------
    case("oxybutynin", "amitriptyline", "moderate", "additive anticholinergic load: confusion, retention"),
    case("diphenhydramine", "oxybutynin", "moderate", "additive anticholinergic load (Beers criteria)"),
    # --- specific labelled pairs ------------------------------------------------------------------------
    case("sildenafil", "nitroglycerin", "critical", "Viagra 4: nitrates contraindicated"),
    case("tadalafil", "isosorbide mononitrate", "critical", "Cialis 4: nitrates contraindicated",
         "tadalafil", "isosorbide"),
    case("riociguat", "sildenafil", "critical", "Adempas 4: PDE inhibitors contraindicated"),
    case("methotrexate", "trimethoprim", "major", "bone-marrow suppression; avoid"),
    case("lithium", "hydrochlorothiazide", "moderate", "lithium label 7: monitor levels, adjust dose"),
    case("lithium", "ibuprofen", "moderate", "lithium label 7: monitor levels, adjust dose"),
    case("dofetilide", "verapamil", "critical", "Tikosyn Contraindications"),
    case("dofetilide", "hydrochlorothiazide", "critical", "Tikosyn Contraindications"),
    case("valproic acid", "meropenem", "major", "Merrem: not recommended, seizures", "valproate",
         "meropenem"),
    case("lamotrigine", "valproate", "major", "Lamictal boxed warning: serious rash with valproate"),
    case("allopurinol", "azathioprine", "major", "Imuran 7: cut azathioprine to a third or a quarter"),
    case("febuxostat", "mercaptopurine", "critical", "Uloric 4: contraindicated"),
    case("Entresto", "lisinopril", "critical", "Entresto 4: ACE inhibitors within 36 hours",
         "sacubitril", "lisinopril"),
    case("gentamicin", "furosemide", "major", "aminoglycoside boxed warning: avoid potent diuretics"),
    case("citalopram", "omeprazole", "moderate", "Celexa 2: at most 20 mg with CYP2C19 inhibitors"),
    case("disulfiram", "metronidazole", "critical", "Flagyl Contraindications: disulfiram"),
]  # fmt: skip


def interaction_for(findings: list[Finding], names: frozenset[str]) -> Finding | None:
    matching = [f for f in findings if f.kind == "interaction" and {i.name for i in f.ingredients} >= names]
    return min(matching, key=lambda f: SEVERITY_ORDER[f.severity], default=None)


def involved_names(item: Dangerous) -> frozenset[str]:
    if item.involved:
        return frozenset(item.involved)
    return frozenset(i.name for m in medications(*item.drugs) for i in m.ingredients)


def assert_usable(finding: Finding) -> None:
    """Words a nurse can use: a whole summary stating its own severity, steps, a rule and a source."""
    assert len(finding.summary) < MAX_SUMMARY, finding.summary
    assert "…" not in finding.summary, finding.summary
    assert SEVERITY_IN_SUMMARY.findall(finding.summary) == [finding.severity], finding.summary
    if finding.severity in ("critical", "major"):
        assert ORDERED_STEPS.match(finding.management), finding.management
        assert "No action stated" not in finding.management
    assert finding.rule
    assert finding.sources


@pytest.mark.parametrize("item", DANGEROUS)
def test_dangerous_pair_is_found_at_its_minimum_severity(item: Dangerous) -> None:
    names = involved_names(item)
    finding = interaction_for(findings_for(*item.drugs), names)
    assert finding is not None, f"no interaction finding for {sorted(names)} ({item.fact})"
    assert at_least(finding.severity, item.minimum), (finding.severity, finding.rule, item.fact)
    assert_usable(finding)


def test_the_table_covers_enough_pairs() -> None:
    assert len(DANGEROUS) >= 60
    assert len(HARMLESS) >= 30


def test_triple_whammy_names_all_three_drugs() -> None:
    """ACE inhibitor + diuretic + NSAID: acute kidney injury (triple whammy); one finding for the three."""
    for trio in (("lisinopril", "furosemide", "ibuprofen"), ("ramipril", "hydrochlorothiazide", "naproxen")):
        names = frozenset(trio)
        finding = interaction_for(findings_for(*trio), names)
        assert finding is not None, f"no finding naming all of {sorted(names)}"
        assert at_least(finding.severity, "major"), finding.severity
        assert_usable(finding)


def harmless(first: str, second: str, why: str) -> object:
    return pytest.param(first, second, why, id=f"{first}+{second}")


HARMLESS = [
    harmless("paracetamol", "amoxicillin", "no interaction"),
    harmless("metformin", "atorvastatin", "no interaction"),
    harmless("lisinopril", "amlodipine", "intended antihypertensive combination"),
    harmless("omeprazole", "paracetamol", "no interaction"),
    harmless("levothyroxine", "atorvastatin", "given at separate times; no clinically relevant effect"),
    harmless("salbutamol", "ipratropium", "intended bronchodilator combination"),
    harmless("senna", "lactulose", "intended laxative combination"),
    harmless("furosemide", "bisoprolol", "common heart-failure combination; no labelled interaction"),
    harmless("metformin", "lisinopril", "no clinically relevant interaction"),
    harmless("amlodipine", "atorvastatin", "no cap for atorvastatin with amlodipine"),
    harmless("enoxaparin", "paracetamol", "paracetamol is the safe analgesic with anticoagulants"),
    harmless("ceftriaxone", "metronidazole", "intended antibiotic combination"),
    harmless("prednisolone", "omeprazole", "gastric protection with steroids"),
    harmless("insulin glargine", "metformin", "intended diabetes combination"),
    harmless("atorvastatin", "aspirin", "secondary prevention"),
    harmless("bisoprolol", "ramipril", "heart-failure combination"),
    harmless("cetirizine", "fluticasone", "no interaction"),
    harmless("paracetamol", "ibuprofen", "intended analgesic combination"),
    harmless("morphine", "ondansetron", "morphine is not serotonergic; no QT partner"),
    harmless("heparin", "paracetamol", "no interaction"),
    harmless("ceftriaxone", "paracetamol", "no interaction"),
    harmless("pantoprazole", "clopidogrel", "the PPI the Plavix label allows"),
    harmless("lansoprazole", "amoxicillin", "no interaction"),
    harmless("losartan", "hydrochlorothiazide", "intended antihypertensive combination"),
    harmless("bisacodyl", "lactulose", "intended laxative combination"),
    harmless("tamsulosin", "finasteride", "intended combination for prostate enlargement"),
    harmless("montelukast", "fluticasone", "intended asthma combination"),
    harmless("metoprolol", "atorvastatin", "no interaction"),
    harmless("apixaban", "paracetamol", "paracetamol is the safe analgesic with anticoagulants"),
    harmless("enoxaparin", "pantoprazole", "no interaction"),
    harmless("gabapentin", "paracetamol", "no interaction"),
    harmless("dexamethasone", "ondansetron", "intended antiemetic combination"),
    harmless("thiamine", "folic acid", "vitamins"),
    harmless("levothyroxine", "metformin", "no interaction"),
    harmless("amlodipine", "losartan", "intended antihypertensive combination"),
    harmless("cholecalciferol", "calcium carbonate", "intended bone-health combination"),
    harmless("methotrexate", "folic acid", "folic acid is given to reduce methotrexate toxicity"),
]


@pytest.mark.parametrize(("first", "second", "why"), HARMLESS)
def test_harmless_pair_raises_nothing_major(first: str, second: str, why: str) -> None:
    loud = [(f.severity, f.kind, f.rule, f.summary) for f in findings_for(first, second)]
    assert [f for f in loud if at_least(f[0], "major")] == [], why
