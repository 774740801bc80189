// Translations: Django's JavaScript catalog (/jsi18n/, a classic script
// loaded before any module) defines gettext and ngettext; the strings are
// extracted by `manage.py makemessages -d djangojs`. Without the catalog the
// page speaks English.
const catalog = globalThis;

export function gettext(text) {
  return catalog.gettext ? catalog.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (catalog.ngettext) return catalog.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// "%(name)s is typing…" with {name: "bob"}: named placeholders, so a
// translation may put them in any order.
export function interpolate(text, values) {
  return text.replace(/%\((\w+)\)s/g, (match, key) =>
    key in values ? String(values[key]) : match
  );
}

// The page's language (the server chose it: preference, cookie or browser),
// for Intl formats, so dates read as the words around them.
export function locale() {
  return document.documentElement.lang || undefined;
}
