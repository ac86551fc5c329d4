import { html, type SafeHtml } from './html.js';
import { layout, notice } from './layout.js';

/** The login form; `loginToken` is the double-submit token against login CSRF. */
export function renderLogin(loginToken: string, error?: string): SafeHtml {
  return layout(
    'Sign in',
    { csrf: undefined, section: 'login' },
    html`${notice('error', error)}
<form method="post" action="/admin/login" class="login">
<input type="hidden" name="_login" value="${loginToken}">
<label>Admin password <input type="password" name="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
<p class="muted">Set or change the password with <code>postwarden admin set-password</code>.</p>`,
  );
}
