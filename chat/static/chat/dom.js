// DOM helpers. Every piece of text goes into the page with textContent,
// never as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Data blocks the server writes with json_script: URLs, limits, close codes.
export function serverData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

// A stable colour per name, for avatars (a hue; the lightness is the theme's).
export function hue(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}
