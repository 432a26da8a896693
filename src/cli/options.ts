import { Option } from 'commander';

// Options that many commands share, declared once so their flags and help read the same everywhere.

/** `-f, --file FILE`: the pipeline file. */
export const fileOption = () => new Option('-f, --file <file>', 'pipeline file (default: pipeline.yaml, else dvc.yaml)');

export const jsonOption = (description = 'print JSON') => new Option('--json', description);

/** `--md`: a markdown table for CI job summaries; the alternative to `--json`. */
export const mdOption = (description = 'print a markdown table (for CI job summaries)') => new Option('--md', description).conflicts('json');
