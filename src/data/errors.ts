/** The error every reader and loader throws for bad input files: it names the file and, where known, the line. */
export class DataFileError extends Error {
  /** Path of the offending file (or folder). */
  readonly file: string;
  /** 1-based line number, when the problem is on one line. */
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, message: string) {
    super(line === undefined ? `${file}: ${message}` : `${file}, line ${line}: ${message}`);
    this.name = 'DataFileError';
    this.file = file;
    this.line = line;
  }
}
