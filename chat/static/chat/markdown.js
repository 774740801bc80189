// Message bodies: a Markdown subset rendered by markdown-it and sanitised
// by DOMPurify with an allow-list (vendor/, versions in docs/page.md).
// Raw HTML in a message is text (markdown-it `html: false`), and whatever
// markdown-it makes is still passed through the sanitiser: only the tags and
// attributes below survive, links only to http(s)/mailto, each with
// rel="noopener noreferrer nofollow".
import MarkdownIt from "./vendor/markdown-it/markdown-it.min.js";
import DOMPurify from "./vendor/dompurify/purify.es.js";

const md = new MarkdownIt("zero", { html: false, linkify: true, breaks: true });
md.enable([
  "emphasis", // **bold**, *italic*, _italic_
  "strikethrough",
  "backticks",
  "fence",
  "code",
  "blockquote",
  "list",
  "linkify",
  "autolink",
  "link",
  "newline",
  "paragraph",
  "escape",
  "entity",
  "text_join",
]);
md.validateLink = (url) => /^(https?:|mailto:)/i.test(url.trim());

const ALLOWED_TAGS = [
  "p", "br", "strong", "em", "s", "del", "code", "pre", "blockquote",
  "ul", "ol", "li", "a",
];
const ALLOWED_ATTR = ["href", "start"];

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") || "";
    if (!/^(https?:|mailto:)/i.test(href)) node.removeAttribute("href");
    node.setAttribute("rel", "noopener noreferrer nofollow");
    node.setAttribute("target", "_blank");
  }
});

// A DocumentFragment of the rendered text (never a string to set as HTML).
export function renderMarkdown(text) {
  const html = md.render(text).trim();
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ADD_ATTR: ["target", "rel"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    RETURN_DOM_FRAGMENT: true,
  });
}
