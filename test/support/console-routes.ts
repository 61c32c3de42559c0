import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { StaffRole } from '../../src/auth/staff-role.js';
import { CONSOLE_ROLES } from '../../src/web/console/console.guard.js';
import { isConsolePath } from '../../src/web/page-paths.js';
import { type PageRoute, pageRoutes } from './page-routes.js';

export interface ConsoleRoute extends PageRoute {
  /** What ConsoleOnly says on the handler or its controller; undefined when it says nothing. */
  roles: StaffRole[] | undefined;
}

/** The ways into the console, which need no session (and so carry no ConsoleOnly). */
export const CONSOLE_DOOR = ['GET /console/login', 'POST /console/login', 'POST /console/logout'];

/**
 * Every console route the router serves (HEAD aside, it follows GET), each with the roles its
 * ConsoleOnly metadata admits, read through Nest's Reflector as the guard reads it. The list comes
 * from the router; the controllers' metadata only tells which handler serves each entry, so a router
 * entry no controller method explains fails here rather than going unchecked.
 */
export function consoleRoutes(t: Parameters<typeof pageRoutes>[0]): ConsoleRoute[] {
  const reflector = new Reflector();
  const handlers = new Map<string, StaffRole[] | undefined>();
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const base = [Reflect.getMetadata(PATH_METADATA, controller) as string | string[]].flat()[0] ?? '';
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const path = [Reflect.getMetadata(PATH_METADATA, handler) as string | string[]].flat()[0] ?? '';
        const url = `/${base}/${path}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
        const roles = reflector.getAllAndOverride<StaffRole[] | undefined>(CONSOLE_ROLES, [handler as () => void, controller]);
        handlers.set(`${RequestMethod[method]} ${url}`, roles);
      }
    }
  }
  return pageRoutes(t)
    .filter((route) => isConsolePath(route.url) && route.method !== 'HEAD')
    .map((route) => {
      const key = `${route.method} ${route.url}`;
      if (!handlers.has(key)) throw new Error(`the router serves ${key}, but no controller method declares it`);
      return { ...route, roles: handlers.get(key) };
    });
}

/** A route only admins may use: ConsoleOnly names roles, and a specialist is not among them. */
export function isAdminOnly(route: ConsoleRoute): boolean {
  return route.roles !== undefined && route.roles.length > 0 && !route.roles.includes('specialist');
}
