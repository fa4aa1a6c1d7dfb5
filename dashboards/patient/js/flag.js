// Flag a bad reaction in a few taps: type part of the drug's name, pick it from the list (backed by the
// offline drug knowledge on the ledger server), say what happened and how bad, send.

import { ApiError } from "./api.js";
import { announce, fill, h, toggle } from "./dom.js";

const $ = (id) => document.getElementById(id);
const SEARCH_DELAY_MS = 200;
const KINDS = { ingredient: "ingredient", brand: "brand", product: "product" };

function kindText(match) {
  if (match.kind === "name") return `same as ${match.ingredients.map((i) => i.name).join(" + ")}`;
  return KINDS[match.kind] ?? match.kind;
}

export function setupFlagForm(api, onFlagged) {
  const form = $("flag-form");
  const search = $("drug-search");
  const options = $("drug-options");
  const chosen = $("drug-chosen");
  const rxcui = $("drug-rxcui");
  let timer = null;
  let asked = 0;

  function choose(match) {
    search.value = match.label;
    rxcui.value = match.rxcui;
    const ingredients = match.ingredients.map((i) => i.name).join(" + ");
    fill(chosen, "Chosen: ", h("strong", {}, match.label),
      ingredients && ingredients !== match.label ? ` (${ingredients})` : "", ` · RxNorm ${match.rxcui}`);
    toggle(chosen, true);
    toggle(options, false);
    $("reaction").focus();
  }

  function showMatches(matches) {
    fill(options, matches.map((match) => h("li", {},
      h("button", {
        type: "button",
        class: "option",
        dataset: { rxcui: match.rxcui, label: match.label, kind: match.kind },
        onclick: () => choose(match),
      }, h("span", { class: "option-label" }, match.label), h("span", { class: "option-kind" }, kindText(match))))));
    toggle(options, matches.length > 0);
  }

  async function lookUp(query) {
    const mine = ++asked;
    try {
      const answer = await api.searchDrugs(query);
      if (mine === asked) showMatches(answer.matches);
    } catch (error) {
      if (mine === asked) {
        showMatches([]);
        if (error instanceof ApiError && error.status === 503) $("drug-hint").textContent = error.message;
      }
    }
  }

  search.addEventListener("input", () => {
    rxcui.value = "";
    toggle(chosen, false);
    clearTimeout(timer);
    const query = search.value.trim();
    if (query.length < 2) {
      asked++;
      showMatches([]);
      return;
    }
    timer = setTimeout(() => lookUp(query), SEARCH_DELAY_MS);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && !options.hidden) {
      event.preventDefault();
      options.querySelector("button")?.focus();
    }
  });
  options.addEventListener("keydown", (event) => {
    const buttons = [...options.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < buttons.length - 1) { event.preventDefault(); buttons[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? buttons[at - 1] : search).focus(); }
    if (event.key === "Escape") { toggle(options, false); search.focus(); }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("flag-error");
    const result = $("flag-result");
    error.textContent = "";
    result.textContent = "";
    const drug = search.value.trim();
    const reaction = $("reaction").value.trim();
    search.setAttribute("aria-invalid", String(!drug));
    $("reaction").setAttribute("aria-invalid", String(!reaction));
    if (!drug || !reaction) {
      error.textContent = !drug ? "Name the drug that caused the reaction." : "Say what happened.";
      (!drug ? search : $("reaction")).focus();
      return;
    }
    const button = $("flag-submit");
    button.disabled = true;
    try {
      const answer = await api.flagReaction({
        drug, rxcui: rxcui.value || null, reaction, severity: $("severity").value || null,
      });
      const code = answer.rxcui ? ` (RxNorm ${answer.rxcui})` : "";
      const note = answer.unresolved ? " It is not in the drug list, so it was recorded as you wrote it." : "";
      result.textContent = `Flagged: ${answer.drug}${code}, “${reaction}”. Signed and added to your ledger.${note}`;
      result.dataset.entryId = answer.entry;
      announce(result.textContent);
      form.reset();
      rxcui.value = "";
      toggle(chosen, false);
      showMatches([]);
      onFlagged(answer);
    } catch (failure) {
      error.textContent = failure.message || String(failure);
    } finally {
      button.disabled = false;
    }
  });
}
