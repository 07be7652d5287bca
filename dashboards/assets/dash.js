// Triage buttons: POST to the alerts API with the token the user typed (kept for the
// browser session only), then show the new state.
(function () {
  const form = document.getElementById("triage");
  if (!form) return;
  const saved = sessionStorage.getItem("harness-token");
  if (saved) form.token.value = saved;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter && event.submitter.value;
    const token = form.token.value.trim();
    if (!token) { form.result.value = "Enter a token with the triage scope."; return; }
    sessionStorage.setItem("harness-token", token);
    const response = await fetch(`/api/v1/alerts/${form.dataset.alert}/${action}`, {
      method: "POST",
      headers: {"Authorization": `Bearer ${token}`, "Content-Type": "application/json"},
      body: JSON.stringify({note: form.note.value}),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) { window.location.reload(); }
    else { form.result.value = `${response.status}: ${body.error || response.statusText}`; }
  });
})();
