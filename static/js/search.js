// The search page: Pagefind's bundle, published at /pagefind/ beside /static/, searched in the browser.
// Found from this file's own URL, so it works under a sub-path and in a site built with --relative.
const bundle = new URL("../../pagefind/", import.meta.url).href;
const box = document.querySelector("[data-search]");
const form = box.querySelector("form");
const status = box.querySelector(".search-status");
const list = box.querySelector(".search-results");
const FILTERS = ["topic", "tag", "source", "review", "confidence"];

function say(text) {
  status.textContent = text;
}

// An excerpt is HTML with <mark> around the words found: keep only its text and those marks.
function excerpt(html) {
  const paragraph = document.createElement("p");
  paragraph.className = "search-excerpt";
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  for (const node of parsed.body.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      paragraph.append(mark);
    } else {
      paragraph.append(node.textContent);
    }
  }
  return paragraph;
}

function result(data) {
  const item = document.createElement("li");
  const article = document.createElement("article");
  article.className = "search-result";
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  heading.append(link);
  const meta = document.createElement("p");
  meta.className = "card-meta";
  const confidence = data.meta.confidence ? `${data.meta.confidence} ${box.dataset.confidence}` : "";
  meta.textContent = [data.meta.topic, data.meta.date, confidence].filter(Boolean).join(" · ");
  article.append(heading, meta, excerpt(data.excerpt));
  item.append(article);
  return item;
}

async function start() {
  const pagefind = await import(`${bundle}pagefind.js`);
  await pagefind.options({ excerptLength: 24 });
  await pagefind.init();
  // The index is in shards (digest/search.py), the first here and the others in numbered folders, each with one
  // index per language. Pagefind searches the first shard's index in the page's language (else in its first
  // subtag, else the language with most pages); every other is merged in, that language's in shard order
  // first, the order in which a date sort stays exact across shards. (The first shard's folder is merged
  // under another spelling of its path, as Pagefind skips merging its own.)
  const { shards } = await (await fetch(`${bundle}shards.json`)).json();
  const folders = Array.from({ length: shards }, (_, n) => (n === 0 ? `${bundle}./` : `${bundle}${n}/`));
  const entries = await Promise.all(folders.map(async (folder) => (await fetch(`${folder}pagefind-entry.json`)).json()));
  const own = document.documentElement.lang.toLowerCase();
  const first = Object.keys(entries[0].languages);
  const primary = [own, own.split("-")[0]].find((language) => first.includes(language)) ||
    first.sort((a, b) => entries[0].languages[b].page_count - entries[0].languages[a].page_count)[0];
  for (const primaryPass of [true, false]) {
    for (const [n, folder] of folders.entries()) {
      for (const language of Object.keys(entries[n].languages).sort()) {
        if ((language === primary) === primaryPass && !(n === 0 && language === primary)) {
          await pagefind.mergeIndex(folder, { language });
        }
      }
    }
  }
  const filters = await pagefind.filters();
  const params = new URLSearchParams(location.search);
  for (const name of FILTERS) {
    const select = form.elements[name];
    select.append(new Option(box.dataset.all, ""));
    for (const value of Object.keys(filters[name] || {}).sort((a, b) => a.localeCompare(b))) {
      select.append(new Option(`${value} (${filters[name][value]})`, value));
    }
    select.value = params.get(name) || "";
  }
  form.elements.sort.value = params.get("sort") || "";
  form.elements.q.value = params.get("q") || "";
  box.querySelector(".search-options").hidden = false;

  let latest = 0;
  async function run() {
    const asked = ++latest;
    const query = form.elements.q.value.trim();
    const chosen = {};
    const shown = new URLSearchParams();
    if (query) shown.set("q", query);
    for (const name of FILTERS) {
      const value = form.elements[name].value;
      if (value) {
        chosen[name] = value;
        shown.set(name, value);
      }
    }
    const sort = form.elements.sort.value;
    if (sort) shown.set("sort", sort);
    history.replaceState(null, "", shown.toString() ? `?${shown}` : location.pathname);
    if (!query && !Object.keys(chosen).length) {
      list.replaceChildren();
      say("");
      return;
    }
    say(box.dataset.loading);
    const found = await pagefind.search(query || null, { filters: chosen, sort: sort ? { date: "desc" } : undefined });
    const datas = await Promise.all(found.results.slice(0, 30).map((r) => r.data()));
    if (asked !== latest) return; // a newer search has started
    list.replaceChildren(...datas.map(result));
    const count = found.results.length;
    say(count === 0 ? box.dataset.none : count === 1 ? box.dataset.one : box.dataset.many.replace("{n}", count));
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  form.addEventListener("change", run);
  let timer;
  form.elements.q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
  await run();
}

start().catch(() => {
  const link = document.createElement("a");
  link.href = new URL("../archive/", bundle).href;
  link.textContent = box.dataset.failed;
  status.replaceChildren(link);
});
