// "Copy link" puts the absolute URL of a search on the clipboard; without clipboard access it is a plain link.

export function enableCopyLinks(root) {
  for (const link of root.querySelectorAll("a[data-copy-link]")) {
    const label = link.querySelector("[data-copy-label]");
    link.addEventListener("click", async (event) => {
      if (!navigator.clipboard || !window.isSecureContext) return;
      event.preventDefault();
      try {
        await navigator.clipboard.writeText(link.href);
        if (label) {
          const original = label.textContent;
          label.textContent = "Copied";
          setTimeout(() => { label.textContent = original; }, 1600);
        }
      } catch {
        window.location.assign(link.href);
      }
    });
  }
}
