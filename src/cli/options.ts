import { Option } from 'commander';

// Options that many commands share, declared once so their flags and help read the same everywhere.

/** `--file FILE`: one pipeline file. A long option only: `-f` is `--force`, as in DVC. */
export const fileOption = () => new Option('--file <file>', 'only this pipeline file (default: the pipeline files of the project)');

export const jsonOption = (description = 'print JSON') => new Option('--json', description);

/** `--md`: a markdown table for CI job summaries; the alternative to `--json`. */
export const mdOption = (description = 'print a markdown table (for CI job summaries)') => new Option('--md', description).conflicts('json');
