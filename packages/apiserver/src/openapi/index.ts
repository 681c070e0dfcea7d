/**
 * OpenAPI v3 documents and server-side field validation (`?fieldValidation=`). See README.md.
 */
export * from "./documents.js";
export * from "./routes.js";
export * from "./strict.js";
