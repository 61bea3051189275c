/** `-o yaml`: a module of its own, so that kportctl loads yaml only for it (and a bundle reaches its named export). */
export { stringify as yaml } from 'yaml';
