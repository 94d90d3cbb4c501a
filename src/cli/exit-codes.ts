/** Exit codes, as docker has them: the remote command's own for exec/ssh, else these. */
export const EXIT_OK = 0;
/** The command line is wrong: an unknown flag, a bad value, a missing argument. */
export const EXIT_USAGE = 2;
/** shed's own failure: the server or the shed said no, or could not be reached. */
export const EXIT_FAILURE = 125;
