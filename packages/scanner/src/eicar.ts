/** The 68-byte EICAR anti-virus test string (harmless; every scanner detects it). */
export const EICAR: Buffer = Buffer.from(
  'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*',
  'latin1',
);
