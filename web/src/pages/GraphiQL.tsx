// GraphiQL for integrators, built into the bundle (no CDN, nothing unpinned). Signed in, it uses
// the session; an integrator adds `{"Authorization": "Bearer rbk_…"}` under Headers.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { useEffect } from 'react';
import 'graphiql/style.css';

const url = new URL('/graphql', window.location.href);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });

/**
 * CodeMirror's hidden textareas get the names of their editors (GraphiQL leaves them unnamed), and
 * its scrolling areas can be focused.
 */
const EDITORS: [string, string][] = [
  ['.graphiql-query-editor', 'Query'],
  ['.graphiql-editor-tool .graphiql-editor:not(.hidden)', 'Variables or headers'],
  ['.result-window', 'Result'],
];

function labelEditors(root: HTMLElement) {
  for (const [selector, name] of EDITORS)
    root.querySelectorAll(`${selector} textarea:not([aria-label])`).forEach((t) => t.setAttribute('aria-label', name));
  root.querySelectorAll('textarea:not([aria-label])').forEach((t) => t.setAttribute('aria-label', 'Editor'));
  // A scrolling editor can be reached with the keyboard, to scroll it.
  root.querySelectorAll('.CodeMirror-scroll[tabindex="-1"]').forEach((s) => s.setAttribute('tabindex', '0'));
}

export default function GraphiQLPage() {
  useEffect(() => {
    const root = document.querySelector<HTMLElement>('.graphiql-page');
    if (!root) return;
    labelEditors(root);
    const observer = new MutationObserver(() => labelEditors(root));
    observer.observe(root, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, []);
  return (
    <div className="graphiql-page">
      <GraphiQL fetcher={fetcher} defaultEditorToolsVisibility="headers" />
    </div>
  );
}
