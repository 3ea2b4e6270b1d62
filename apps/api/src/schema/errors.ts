/** Errors the caller can fix, reported to GraphQL clients with code BAD_USER_INPUT. */
import { GraphQLError } from 'graphql';

export function userInputError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}
