// A site opened from disk (built with --relative): the browser runs no module script there and Pagefind can fetch
// nothing, so search.js never starts. This plain script says so, with the way to the archive.
if (location.protocol === "file:") {
  document.querySelector(".search-offline").hidden = false;
}
