// Placeholder so that the component library exists before its first source.
namespace mh {
int features_placeholder = 0;
}
