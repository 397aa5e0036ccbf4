/** Aliases `@bytechannel/<pkg>` and `@bytechannel/<pkg>/<Module>` to `packages/<pkg>/src`. */
export declare const sourceAliases: (...packages: ReadonlyArray<string>) => {
    find: RegExp;
    replacement: string;
}[];
/** Playwright launch options for Debian's chromium package (flags: no sandbox as root, no background traffic). */
export declare const chromiumLaunch: {
    executablePath: string;
    args: string[];
};
//# sourceMappingURL=vitest.shared.d.ts.map