/** Types of bin/build-freshness.mjs (plain JavaScript so the launcher can use it before dist/ is loaded). */
export declare const SOURCE_DIRS: string[];
export declare const STAMP: string;
export declare function newestSourceMtime(root: string): number;
export declare function buildState(root: string): { fresh: true } | { fresh: false; reason: string };
