// Recording at the bedside: a reaction or an allergy seen on the ward (POST /admissions/{id}/reactions or
// /allergies), then where each recorded entry is on its way to the patient's own ledger. Kept minimal.

import { fill, h } from "./dom.js";

const $ = (id) => document.getElementById(id);
const KINDS = { allergy: "Allergy", reaction: "Reaction", observation: "Observation", medication: "Discharge medicine" };

/** "Allergy: penicillin", "Observation: INR 4.2", "No known drug allergies". */
function what(entry) {
  if (entry.no_known_allergies) return "No known drug allergies";
  return `${KINDS[entry.kind] ?? entry.kind}: ${entry.observation ?? entry.drug}`;
}

export class BedsideForm {
  constructor(api, board, staff) {
    this.api = api;
    this.board = board;
    this.form = $("bedside-form");
    $("bedside-clinician").value = staff.name;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    $("bedside-admission").addEventListener("change", () => this.showRecorded());
  }

  /** The ward's patients (its admissions, and those of its doses and verified alerts) by bed as the choices. */
  render() {
    const select = $("bedside-admission");
    const admissions = new Set([...this.board.admissions.keys(), ...[...this.board.doses.values()].map((dose) => dose.admission)]);
    for (const entry of this.board.alerts.values()) {
      if (entry.verified && entry.claims?.admission) admissions.add(entry.claims.admission);
    }
    const bed = (admission) => String(this.board.patientOf(admission)?.bed ?? this.board.admissions.get(admission)?.bed ?? "");
    const wanted = [...admissions].sort((a, b) => bed(a).localeCompare(bed(b), "en", { numeric: true }) || a.localeCompare(b));
    const shown = [...select.options].map((option) => option.value);
    if (wanted.join("\n") === shown.join("\n")) return;
    const chosen = select.value;
    fill(select, wanted.map((admission) => {
      const who = this.board.patientOf(admission) ?? this.board.admissions.get(admission);
      const label = who ? `Bed ${who.bed}: ${who.patient}` : "Patient not named";
      return h("option", { value: admission, selected: admission === chosen }, label);
    }));
  }

  async submit() {
    const admission = $("bedside-admission").value;
    const kind = $("bedside-kind").value;
    const drug = $("bedside-drug").value.trim();
    const reaction = $("bedside-reaction").value.trim();
    const severity = $("bedside-severity").value;
    const clinician = { name: $("bedside-clinician").value.trim(), role: $("bedside-role").value };
    $("bedside-error").textContent = "";
    $("bedside-result").textContent = "";
    if (!admission || !drug || !clinician.name || (kind === "reaction" && !reaction)) {
      $("bedside-error").textContent = "Choose the patient and give the drug, what happened and who recorded it.";
      return;
    }
    const body = kind === "allergy"
      ? { substance: drug, reaction: reaction || undefined, criticality: severity === "severe" ? "high" : undefined, clinician }
      : { drug, reaction, severity: severity || undefined, clinician };
    $("bedside-submit").disabled = true;
    try {
      const recorded = await this.api.recordAtBedside(admission, kind, body);
      $("bedside-result").textContent = `Recorded: ${recorded.drug}. ${recorded.status}.`;
      $("bedside-drug").value = "";
      $("bedside-reaction").value = "";
      await this.showRecorded();
      setTimeout(() => this.showRecorded(), 1500); // delivery to her ledger follows
    } catch (error) {
      $("bedside-error").textContent = error.message || String(error);
    } finally {
      $("bedside-submit").disabled = false;
    }
  }

  async showRecorded() {
    const admission = $("bedside-admission").value;
    if (!admission) return;
    try {
      const { entries } = await this.api.recordedAtBedside(admission);
      fill($("bedside-entries"), entries.map((entry) => h("li", { dataset: { entry: entry.entry, state: entry.state } },
        `${what(entry)}, recorded by ${entry.recorded_by.name} (${entry.recorded_by.role}): ${entry.status}`)));
    } catch {
      fill($("bedside-entries"));
    }
  }
}
