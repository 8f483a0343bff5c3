// The Ark's API /api/v1 (docs/api.md) from the browser. A session's CSRF token (from sign-in) is
// kept in sessionStorage and sent as X-CSRF-Token on every request that changes something; the
// session itself is the HttpOnly cookie, which this code never sees.

const KEY = 'ark.csrf';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;  // the error's JSON (a definition's errors: body.errors)
  }
}

export async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = sessionStorage.getItem(KEY) || '';
  const res = await fetch('/api/v1' + path, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || 'HTTP ' + res.status, data);
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);

// The signed-in principal, or null. Asks the server only when this tab signed in (an anonymous
// visitor's page load must not put a refusal on the public ledger).
export async function me() {
  if (!sessionStorage.getItem(KEY)) return null;
  try {
    return await get('/me');
  } catch (e) {
    if (e.status === 401) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    throw e;
  }
}

export async function signIn(user, token) {
  const who = await post('/session', { user, token });
  sessionStorage.setItem(KEY, who.csrf_token);
  return who;
}

export async function signOut() {
  try {
    await call('DELETE', '/session');
  } finally {
    sessionStorage.removeItem(KEY);
  }
}
