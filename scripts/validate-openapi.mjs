// Validates the generated OpenAPI document with a real validator
// (swagger-parser: schema and reference checks). Run by `make lint`.
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2] ?? "gen/openapi/orion.swagger.json";
try {
  const api = await SwaggerParser.validate(file);
  const paths = Object.keys(api.paths).length;
  console.log(`${file}: valid ${api.swagger ? "Swagger " + api.swagger : "OpenAPI " + api.openapi} document, ${paths} paths`);
} catch (err) {
  console.error(`${file}: invalid OpenAPI document: ${err.message}`);
  process.exit(1);
}
