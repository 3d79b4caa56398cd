// Starts Swagger UI on the page /schema renders (kernel/gateway/_docs.py). A file, not an inline
// script: the docs pages' CSP allows scripts from this origin only.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
});
