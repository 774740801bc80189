// Dates and times in the page's language and the browser's time zone.
import { locale } from "./i18n.js";

const time = new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" });
const dateTime = new Intl.DateTimeFormat(locale(), {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const full = new Intl.DateTimeFormat(locale(), { dateStyle: "full", timeStyle: "short" });
const numbers = new Intl.NumberFormat(locale());
const relative = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });

// `HH:MM` today, the date and time before.
export function shortTime(date) {
  const sameDay = date.toDateString() === new Date().toDateString();
  return (sameDay ? time : dateTime).format(date);
}

export function fullTime(date) {
  return full.format(date);
}

export function number(value) {
  return numbers.format(value);
}

const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

// "just now" within 45 s (the caller's words), else "5 minutes ago".
export function ago(iso, justNow) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  if (Math.abs(seconds) < 45) return justNow;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds / 60), "minute");
}
