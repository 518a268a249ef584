# One image for every service; docker-compose.yml picks the entry point per container.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm i --no-save tsx
COPY . .
USER node
CMD ["npx", "tsx", "gateway/index.ts"]
