// Triage from the pages: POST to the API with the token the user typed (kept for the
// browser session only), then reload to show the new states.
(function () {
  const TOKEN = "harness-token";
  const OPENED = "harness-opened-summaries";  // the causes expanded on the alerts page
  const DONE = "harness-triage-done";  // what the last bulk step did, shown after the reload

  function token(form) {
    const typed = form.token.value.trim();
    if (typed) sessionStorage.setItem(TOKEN, typed);
    return typed;
  }

  async function send(method, url, secret, body) {
    const response = await fetch(url, {
      method,
      headers: {"Authorization": `Bearer ${secret}`, "Content-Type": "application/json"},
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(`${response.status}: ${answer.error || response.statusText}`);
    }
    return answer;
  }

  // Every triage form starts with the session's token.
  for (const form of document.querySelectorAll("form.triage")) {
    const saved = sessionStorage.getItem(TOKEN);
    if (saved && form.token) form.token.value = saved;
  }

  // One alert or one summary: form#triage posts to its endpoint + /<action>.
  const single = document.getElementById("triage");
  if (single) {
    single.addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = event.submitter && event.submitter.value;
      const secret = token(single);
      if (!secret) { single.result.value = "Enter a token with the triage scope."; return; }
      try {
        await send("POST", `${single.dataset.endpoint}/${action}`, secret,
                   {note: single.note.value});
        window.location.reload();
      } catch (error) { single.result.value = error.message; }
    });
  }

  // A summary's owner: PUT its assignee and bug link (an empty field clears it).
  const owner = document.getElementById("owner");
  if (owner) {
    owner.addEventListener("submit", async (event) => {
      event.preventDefault();
      const secret = sessionStorage.getItem(TOKEN) || (single && token(single));
      if (!secret) { owner.result.value = "Enter a token with the triage scope above."; return; }
      try {
        await send("PUT", owner.dataset.endpoint, secret, {
          assignee: owner.assignee.value.trim() || null,
          bug_url: owner.bug_url.value.trim() || null,
        });
        window.location.reload();
      } catch (error) { owner.result.value = error.message; }
    });
  }

  // The alerts page: checked causes go to their summary's endpoint, checked alerts of
  // other causes to /api/v1/alerts/bulk (200 ids a request).
  const bulk = document.getElementById("bulk-triage");
  if (!bulk) return;
  const picks = (kind) => [...document.querySelectorAll(`input.pick-${kind}`)];
  const count = document.getElementById("checked-count");

  function chosen() {
    const summaries = picks("summary").filter((box) => box.checked).map((box) => box.value);
    const alerts = picks("alert")
      .filter((box) => box.checked && !summaries.includes(box.dataset.summary))
      .map((box) => box.value);
    return {summaries, alerts: [...new Set(alerts)]};
  }

  const plural = (n, word) => `${n} ${word}${n == 1 ? "" : "s"}`;

  function recount() {
    const {summaries, alerts} = chosen();
    const parts = [];
    if (summaries.length) parts.push(plural(summaries.length, "cause"));
    if (alerts.length) parts.push(plural(alerts.length, "alert"));
    count.textContent = parts.length ? `${parts.join(" and ")} checked` : "nothing checked";
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.classList.contains("pick-summary")) {
      for (const alert of picks("alert").filter((a) => a.dataset.summary == box.value)) {
        alert.checked = box.checked;
      }
    } else if (box.classList.contains("pick-alert") && !box.checked) {
      for (const whole of picks("summary").filter((s) => s.value == box.dataset.summary)) {
        whole.checked = false;
      }
    }
    if (box.classList.contains("pick-summary") || box.classList.contains("pick-alert")) {
      recount();
    }
  });

  // Causes opened stay open across the reload that shows the new states.
  const opened = new Set(JSON.parse(sessionStorage.getItem(OPENED) || "[]"));
  for (const details of document.querySelectorAll("details[data-summary]")) {
    if (opened.has(details.dataset.summary)) details.open = true;
    details.addEventListener("toggle", () => {
      if (details.open) opened.add(details.dataset.summary);
      else opened.delete(details.dataset.summary);
      sessionStorage.setItem(OPENED, JSON.stringify([...opened]));
    });
  }
  const done = sessionStorage.getItem(DONE);
  if (done) { bulk.result.value = done; sessionStorage.removeItem(DONE); }

  bulk.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter && event.submitter.value;
    const {summaries, alerts} = chosen();
    if (!summaries.length && !alerts.length) {
      bulk.result.value = "Check a cause or an alert first.";
      return;
    }
    const secret = token(bulk);
    if (!secret) { bulk.result.value = "Enter a token with the triage scope."; return; }
    const body = {note: bulk.note.value};
    let changed = 0, unchanged = 0;
    try {
      for (const id of summaries) {
        const answer = await send("POST", `/api/v1/alert-summaries/${id}/${action}`, secret,
                                  body);
        changed += answer.changed.length; unchanged += answer.unchanged.length;
      }
      for (let start = 0; start < alerts.length; start += 200) {
        const answer = await send("POST", "/api/v1/alerts/bulk", secret,
                                  {...body, action, ids: alerts.slice(start, start + 200)});
        changed += answer.changed.length; unchanged += answer.unchanged.length;
      }
    } catch (error) { bulk.result.value = error.message; return; }
    sessionStorage.setItem(DONE, `${action}: ${plural(changed, "alert")} changed` +
                           (unchanged ? `, ${unchanged} left as ${unchanged == 1 ? "it was" : "they were"}` : ""));
    window.location.reload();
  });
  recount();
})();
