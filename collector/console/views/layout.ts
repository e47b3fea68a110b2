/**
 * The page frame: Pico CSS (classless styling, no hand-written CSS framework),
 * a navigation bar with the pages the session's role may open, and logout.
 * Templates are hono/html tagged templates: every interpolated value is
 * HTML-escaped unless wrapped in `raw`, so record content cannot inject markup.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { AREAS_OF, type Area } from '../access.js';
import type { Session } from '../sessions.js';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const NAV: Array<{ area: Area; href: string; label: string }> = [
  { area: 'costs', href: '/costs', label: 'Costs' },
  { area: 'costs', href: '/budgets', label: 'Budgets' },
  { area: 'records', href: '/requests', label: 'Requests' },
  { area: 'integrity', href: '/integrity', label: 'Audit integrity' },
  { area: 'agents', href: '/agents', label: 'Agents and tools' },
  { area: 'approvals', href: '/approvals', label: 'Approvals' },
  { area: 'prompts', href: '/prompts', label: 'Prompts' },
];

export function page(title: string, body: Html | string, session?: Session, options: { scripts?: string[] } = {}): Html {
  const areas = session ? AREAS_OF[session.role] : [];
  return html`<!doctype html>
<html lang="en" data-theme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Gatehouse</title>
<link rel="stylesheet" href="/assets/pico.min.css">
<link rel="stylesheet" href="/assets/console.css">
</head>
<body>
<header class="container-fluid">
<nav>
  <ul><li><strong>Gatehouse</strong></li>${NAV.filter((n) => areas.includes(n.area)).map((n) => html`<li><a href="${n.href}"${title === n.label ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul>
  ${session ? html`<ul><li><small>${session.user ?? session.keyId} · ${session.role} · ${session.tenant === '*' ? 'all tenants' : `tenant ${session.tenant}`}</small></li>
  <li><form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${session.csrf}"><button type="submit" class="secondary outline">Log out</button></form></li></ul>` : ''}
</nav>
</header>
<main class="container-fluid">
<h1>${title}</h1>
${body}
</main>
${(options.scripts ?? []).map((s) => html`<script src="${s}"></script>`)}
</body>
</html>`;
}

/** A hidden CSRF field for a state-changing form. */
export function csrfField(session: Session): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

/** A cell value as text: null as an em dash, dates in ISO 8601 UTC, arrays joined. */
export function text(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  if (Array.isArray(value)) return value.map((v) => text(v)).join(', ');
  return String(value);
}

/** Exact decimal dollars, trimmed: '0.001650000000' -> '$0.00165'. */
export function usd(value: unknown): string {
  if (value === null || value === undefined) return '—';
  const s = String(value);
  const trimmed = s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  return `$${trimmed === '' || trimmed === '-' ? '0' : trimmed}`;
}
