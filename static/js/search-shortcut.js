// "/" focuses the search box from anywhere except while typing; Escape leaves it.

function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

export function focusSearchOnSlash(root) {
  const input = root.querySelector("[data-search-input]");
  if (!input) return;
  root.addEventListener("keydown", (event) => {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target)) {
      event.preventDefault();
      input.focus();
      input.select();
    } else if (event.key === "Escape" && event.target === input) {
      input.blur();
    }
  });
}
