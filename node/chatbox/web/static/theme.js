// The theme a person chose on this device (light or dark), before the page paints;
// without a choice the page follows the system's (prefers-color-scheme).
"use strict";
try {
  const chosen = localStorage.getItem("chatbox-theme");
  if (chosen === "light" || chosen === "dark") document.documentElement.dataset.theme = chosen;
} catch { /* storage off: follow the system */ }
