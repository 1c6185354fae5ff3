// Page behaviour shared by every page: small, dependency-free ES module.
import { focusSearchOnSlash } from "./search-shortcut.js";
import { annotateRelativeTimes } from "./relative-time.js";
import { enableCopyLinks } from "./copy-link.js";

focusSearchOnSlash(document);
annotateRelativeTimes(document, Date.now());
enableCopyLinks(document);
