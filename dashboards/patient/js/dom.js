// A tiny element builder (as in the ward dashboard). Text always goes in as text, never parsed as HTML:
// drug names and reactions are data the patient typed.

/** h("p", {class: "x", dataset: {grantId: "a"}}, "text", child) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** Show `element` when `show`, hide it otherwise. */
export function toggle(element, show) {
  element.hidden = !show;
}

/** Say something to screen-reader users through the polite live region. */
export function announce(text) {
  const region = document.getElementById("status");
  if (!region || !text) return;
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 100);
}
