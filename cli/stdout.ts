// `faultline replay … | head` closes our stdout early: that is the reader's choice, not an
// error worth a stack trace. Exit quietly with the code the command would have returned.
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      process.exit(process.exitCode ?? 0);
    }
    throw error;
  });
}
