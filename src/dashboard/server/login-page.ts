// The dashboard's sign-in page: plain HTML, no script (it is served without a credential).
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function loginPage(error: string | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Amime dashboard — sign in</title>
<style>body{font:15px system-ui,sans-serif;background:#151515;color:#eee;display:grid;place-items:center;height:100vh;margin:0}
form{background:#222;padding:2em;border-radius:8px;width:28em}input{width:100%;box-sizing:border-box;padding:.5em;margin:.5em 0 1em;background:#111;color:#eee;border:1px solid #555}
button{padding:.5em 1.2em}.err{color:#f66}code{color:#9cf}</style></head>
<body><form method="post" action="/dashboard/login">
<h2>Amime dashboard</h2>
${error === null ? "" : `<p class="err" role="alert">${esc(error)}</p>`}
<p>Run <code>amime dashboard</code> for a login link, or paste the admin token (<code>.amime/admin-token</code>):</p>
<label>Admin token <input name="token" type="password" autocomplete="off" autofocus></label>
<button type="submit">Sign in</button>
</form></body></html>`;
}
