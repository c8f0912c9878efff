// Placeholder so that the component library exists before its first source.
namespace mh {
int replay_placeholder = 0;
}
