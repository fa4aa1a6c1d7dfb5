// A tiny element builder. Text always goes in as text (never parsed as HTML): alert content is data.

const SVG = "http://www.w3.org/2000/svg";

/** h("p", {class: "x", dataset: {alertId: "a"}}, "text", child) */
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

/**
 * A decorative icon (hidden from screen readers: the text next to it says the same). Each tier has its
 * own shape, so it reads without colour: critical an octagon (stop), major a triangle, moderate a
 * circle, minor a square.
 */
const ICONS = {
  critical: "M7.86 2h8.28L22 7.86v8.28L16.14 22H7.86L2 16.14V7.86zM11 6h2v8h-2zM11 16h2v2h-2z",
  major: "M12 2 1 21h22zM11 9h2v6h-2zM11 17h2v2h-2z",
  moderate: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zM11 10h2v8h-2zM11 6h2v2h-2z",
  minor: "M4 4h16v16H4zM8 11h8v2H8z",
  warning: "M12 2 1 21h22zM11 9h2v6h-2zM11 17h2v2h-2z",
  info: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zM11 10h2v8h-2zM11 6h2v2h-2z",
  done: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zM10 17l-5-5 1.4-1.4 3.6 3.6 7.6-7.6L19 8z",
  open: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zM12 5a7 7 0 1 1 0 14 7 7 0 0 1 0-14z",
  verified: "M12 1 3 5v6c0 5.5 3.8 10.7 9 12 5.2-1.3 9-6.5 9-12V5l-9-4zm-2 16-4-4 1.4-1.4L10 14.2l6.6-6.6L18 9l-8 8z",
  untrusted: "M12 1 3 5v6c0 5.5 3.8 10.7 9 12 5.2-1.3 9-6.5 9-12V5l-9-4zm-1 6h2v6h-2V7zm0 8h2v2h-2v-2z",
};
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name] ?? ICONS.info);
  path.setAttribute("fill-rule", "evenodd");
  svg.append(path);
  return svg;
}

/** A safe id fragment from any string. */
export function idFor(prefix, value) {
  return `${prefix}-${String(value).replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/**
 * Say something to screen-reader users through a live region. Messages said close together are
 * joined, not lost; the region is emptied first so a repeated message is announced again.
 */
const pending = new Map(); // region -> texts waiting
export function announce(region, text) {
  if (!region || !text) return;
  if (pending.has(region)) {
    pending.get(region).push(text);
    return;
  }
  pending.set(region, [text]);
  region.textContent = "";
  setTimeout(() => {
    region.textContent = pending.get(region).join(" ");
    pending.delete(region);
  }, 100);
}
