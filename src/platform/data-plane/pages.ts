import { escapeHtml, retryAfterSeconds } from '../router/router-answers.js';

/** The pages HAProxy and nginx answer themselves, worded as the built-in router words them. */

export { retryAfterSeconds };

export const defaultMaintenanceMessage = 'It will be back in a moment. Please try again shortly.';

/** The maintenance page; `detailHtml` is already HTML (escaped message, or a proxy's placeholder for it). */
export function maintenancePage(site: string, detailHtml: string): string {
  return page(`${escapeHtml(site)} is being upgraded`, detailHtml);
}

export function noTargetPage(site: string, channel: 'live' | 'preview'): string {
  return channel === 'live'
    ? page(`no live version of ${escapeHtml(site)} yet`, 'No version of this site has been deployed yet.')
    : page(`no preview of ${escapeHtml(site)} right now`, 'No new version is awaiting verification.');
}

/** The message as HTML that is also safe inside proxy config strings: no quote, dollar, backslash, percent or brace left. */
export function messageHtml(message: string | undefined): string {
  return escapeHtml(message ?? defaultMaintenanceMessage).replace(/[$\\%{}`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, detailHtml: string): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}` +
    `h1{font-size:1.5rem}</style></head><body><h1>${title}</h1><p>${detailHtml}</p></body></html>\n`
  );
}
