/**
 * The report of a run that ended before the agent started because its environment is broken: a
 * setup command failed, the image could not be built, or the tests cannot run at all (preflight).
 * It names the failing command, shows its output's tail, and says what to declare.
 */
import { bounded, head, join, type SummaryFormat } from './summary.js';

/** Input of {@link renderEnvironmentFailure}. */
export interface EnvironmentFailureInput {
  title: string;
  repo: string;
  workflowId: string;
  /** What failed: `setup` (a setup command), `build` (image, Dockerfile), `invalid` (the declaration), `tests` (preflight). */
  stage: 'setup' | 'build' | 'invalid' | 'tests';
  /** One line: the reason (e.g. "`npm`: command not found (exit 127)"). */
  reason: string;
  /** The command that failed, when one did. */
  command?: string;
  outputTail?: string;
  /** Where the environment was declared: `config`, `devcontainer`, `default`. */
  source?: string;
  /** What to declare, from the preflight rule or the failure. */
  hint?: string;
}

const STAGE_TITLE: Record<EnvironmentFailureInput['stage'], string> = {
  setup: 'a setup command failed',
  build: 'the environment image could not be built',
  invalid: 'the environment declaration is invalid',
  tests: 'the tests cannot run in this environment',
};

/** Renders the environment report for the origin (Markdown or Slack mrkdwn). */
export function renderEnvironmentFailure(input: EnvironmentFailureInput, format: SummaryFormat): string {
  const configKey = `repos.${input.repo}.environment`;
  return bounded(format, (d, l) =>
    join([
      `${d.bold('Nightshift could not start')} ${d.text(`"${head(input.title, 200)}"`)}: ${d.text(STAGE_TITLE[input.stage])}.`,
      d.text(head(input.reason, 600)),
      input.command && `Command: ${d.code(head(input.command, 300))}`,
      input.outputTail && l.output > 0 && d.block(input.outputTail.slice(-Math.max(l.output, 400))),
      '',
      d.heading('What to declare'),
      input.hint && d.bullet(d.text(input.hint)),
      d.bullet(
        `Setup commands (run once with package-registry access, cached by your lock files): ${d.code(`${configKey}.setup`)} in the Nightshift config, or ${d.code('postCreateCommand')} in ${d.code('.devcontainer/devcontainer.json')}.`,
      ),
      d.bullet(`A base image with the missing tools: ${d.code(`${configKey}.image`)} or ${d.code(`${configKey}.dockerfile`)} (or the devcontainer's ${d.code('image')} / ${d.code('build.dockerfile')}).`),
      d.bullet(`Check it without spending tokens: ${d.code(`nightshift env check ${input.repo}`)}.`),
      '',
      `No agent ran and no tokens were spent. Environment declared in: ${d.text(input.source ?? 'nothing (the universal image)')}. Run id: ${d.code(input.workflowId)}.`,
    ]),
  );
}
