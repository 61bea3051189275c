/**
 * What the build says about the code running: build/bundle.ts defines these constants in the bundles and
 * the single executable; in the tsc build (dist/, which tests import module by module) they are absent.
 */
declare const KPORT_VERSION: string | undefined;
declare const KPORT_SEA: boolean | undefined;

/** The package version baked into a bundle; null in the tsc build, which reads package.json instead. */
export const BUILD_VERSION: string | null = typeof KPORT_VERSION === 'string' ? KPORT_VERSION : null;
/** True in a bundle (dist/bundle or the single executable): kportd and kportctl are files side by side there. */
export const IN_BUNDLE: boolean = typeof KPORT_SEA === 'boolean';
/** True in the single executable: kportd is this same binary, run as `kport kportd`. */
export const IN_SEA: boolean = typeof KPORT_SEA === 'boolean' && KPORT_SEA;
