/**
 * What a repository's Dockerfile may not do. Nightshift builds it with Docker's classic builder,
 * which fetches an `ADD <url>` itself from the Docker daemon's own network namespace: the setup
 * network's firewall (no host ports, no cloud metadata) never sees that request. So a repository
 * Dockerfile may not `ADD` a URL or a git repository, nor an `ADD` source the builder expands
 * (`$VAR`), whose value could be one. `RUN curl …` is fine: it runs in a container on the setup
 * network.
 *
 * Dockerfile reference: https://docs.docker.com/reference/dockerfile/#add
 */
import { NightshiftError } from '../errors.js';

/** Instructions of a Dockerfile: continuation lines joined, comments and blank lines dropped. */
export function dockerfileInstructions(text: string): Array<{ line: number; keyword: string; args: string }> {
  const out: Array<{ line: number; keyword: string; args: string }> = [];
  const lines = text.split(/\r?\n/);
  let current = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (current === '' && /^\s*(#|$)/.test(raw)) continue;
    if (current === '') start = i + 1;
    if (/\\\s*$/.test(raw)) {
      current += `${raw.replace(/\\\s*$/, '')} `;
      continue;
    }
    current += raw;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(current);
    if (m?.[1]) out.push({ line: start, keyword: m[1].toUpperCase(), args: (m[2] ?? '').trim() });
    current = '';
  }
  if (current.trim()) {
    const m = /^\s*(\w+)\s*(.*)$/s.exec(current);
    if (m?.[1]) out.push({ line: start, keyword: m[1].toUpperCase(), args: (m[2] ?? '').trim() });
  }
  return out;
}

/**
 * Refuses a Dockerfile that would make the Docker daemon fetch something itself: `ADD` (or
 * `ONBUILD ADD`) of a URL, a git source, or a source with a variable.
 * @throws NightshiftError ENV_INVALID naming the file, the line and what to write instead
 */
export function checkRepositoryDockerfile(text: string, path: string): void {
  for (const ins of dockerfileInstructions(text)) {
    const [keyword, args] = ins.keyword === 'ONBUILD' ? splitFirst(ins.args) : [ins.keyword, ins.args];
    if (keyword.toUpperCase() !== 'ADD') continue;
    const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
    const sources = words.slice(0, -1).join(' ');
    if (/:\/\/|^git@|\sgit@|\$/.test(sources) || args.startsWith('[')) {
      throw new NightshiftError('ENV_INVALID', `${path}:${ins.line}: ADD of a URL, a git repository or a variable is not allowed in a repository Dockerfile (the Docker daemon would fetch it outside the setup network); use RUN curl … or COPY`, {
        retryable: false,
        details: { file: path, line: ins.line },
      });
    }
  }
}

function splitFirst(s: string): [string, string] {
  const m = /^(\S+)\s*(.*)$/s.exec(s.trim());
  return [m?.[1] ?? '', m?.[2] ?? ''];
}
