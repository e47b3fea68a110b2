import { html } from 'hono/html';
import { page, type Html } from './layout.js';

export function loginPage(error?: string): Html {
  return page('Log in', html`
<article style="max-width: 32rem">
  <p>Paste your console key (<code>ghc_…</code>). An operator creates one with <code>gatehouse console-keys create</code>.</p>
  ${error ? html`<p role="alert" class="error" id="login-error">${error}</p>` : ''}
  <form method="post" action="/login">
    <label>Console key <input type="password" name="key" autocomplete="current-password" required autofocus></label>
    <button type="submit">Log in</button>
  </form>
</article>`);
}
