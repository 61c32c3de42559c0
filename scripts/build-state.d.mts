export declare const BUILD_OUTPUT: string;
export declare function staleReason(root: string): string | undefined;
export declare function satisfiesMinimum(version: string, range: string): boolean;
