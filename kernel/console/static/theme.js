// Loaded in <head> before the page paints (the console's CSP allows no inline script): the theme
// chosen last time, else the system's.
document.documentElement.dataset.theme =
  localStorage.getItem("webos-theme") ||
  (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
